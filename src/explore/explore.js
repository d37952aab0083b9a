// The graph explorer: draws records and their associations through the public GraphQL API
// (Record.neighborhood and Query.path), with the key the server wrote into the page.

const cytoscape = window.cytoscape;

const MAX_HOPS = 6;
const RESULTS_PER_OBJECT = 8;
/** Search at most this many objects at once (aliases are limited); pick an object for others. */
const SEARCHED_OBJECTS = 20;

const RECORD = 'id displayName object { key singularName }';
const ASSOCIATION = 'id firstRecord { id } secondRecord { id } label { key type firstLabel secondLabel }';

const NEIGHBORHOOD = `query Neighborhood($id: ID!, $depth: Int!) {
  record(id: $id) {
    ${RECORD}
    neighborhood(depth: $depth) {
      truncated
      nodes { distance record { ${RECORD} } }
      edges { ${ASSOCIATION} }
    }
  }
}`;

const PATH = `query Path($from: ID!, $to: ID!) {
  path(from: $from, to: $to, maxHops: ${MAX_HOPS}) {
    length
    records { ${RECORD} }
    associations { ${ASSOCIATION} }
  }
}`;

// Okabe–Ito colours, told apart by most colour-blind readers; each object also gets its own shape.
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#7F7F7F'];
const SHAPES = ['ellipse', 'round-rectangle', 'diamond', 'hexagon', 'triangle', 'octagon', 'star', 'vee'];
/** The same shapes for the legend, in a 16×16 box. */
const ICONS = {
  ellipse: ['circle', { cx: 8, cy: 8, r: 7 }],
  'round-rectangle': ['rect', { x: 1, y: 2, width: 14, height: 12, rx: 3 }],
  diamond: ['polygon', { points: '8,1 15,8 8,15 1,8' }],
  hexagon: ['polygon', { points: '4,1.5 12,1.5 15.5,8 12,14.5 4,14.5 0.5,8' }],
  triangle: ['polygon', { points: '8,1 15,15 1,15' }],
  octagon: ['polygon', { points: '5,1 11,1 15,5 15,11 11,15 5,15 1,11 1,5' }],
  star: ['polygon', { points: '8,0.5 10.2,5.6 15.5,6 11.4,9.5 12.7,15 8,12 3.3,15 4.6,9.5 0.5,6 5.8,5.6' }],
  vee: ['polygon', { points: '1,1 8,6 15,1 8,15' }],
};
const PATH_COLOUR = '#C62828';
/** Zoom a layout may fit the graph to at most. */
const FIT_MAX_ZOOM = 1.25;

const $ = (selector) => document.querySelector(selector);
const animate = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;

const state = {
  apiKey: document.querySelector('meta[name="relate-api-key"]')?.content || sessionStorage.getItem('relate-api-key') || '',
  /** Objects by key, with the index that picks their colour and shape. */
  objects: new Map(),
  /** The record explored from the search: the graph is laid out in rings around it. */
  rootId: null,
  /** The record clicked last: paths start from it. */
  focusId: null,
  /** Depth each record has been expanded to. */
  expanded: new Map(),
  onPath: false,
  busy: 1,
  /** Names of the records met so far (drawn or found), by id. */
  names: new Map(),
};

class ApiError extends Error {}

async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${state.apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(`Could not reach the API: ${error.message}`);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The API answered ${response.status} ${response.statusText} without a GraphQL response.`);
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((e) => (e.extensions?.code ? `${e.message} (${e.extensions.code})` : e.message)).join('\n'));
  }
  return body.data;
}

// ---- The graph ----------------------------------------------------------------------------

const cy = cytoscape({
  container: $('#graph'),
  boxSelectionEnabled: false,
  autounselectify: true,
  minZoom: 0.2,
  maxZoom: 3,
  style: [
    {
      selector: 'node',
      style: {
        'background-color': 'data(colour)',
        shape: 'data(shape)',
        label: 'data(name)',
        width: 30,
        height: 30,
        'border-width': 2,
        'border-color': '#ffffff',
        'font-size': 14,
        color: '#1f2933',
        'text-valign': 'bottom',
        'text-margin-y': 4,
        'text-wrap': 'ellipsis',
        'text-max-width': '190px',
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.85,
        'text-background-padding': '2px',
      },
    },
    { selector: 'node.root', style: { width: 42, height: 42, 'font-weight': 'bold' } },
    { selector: 'node.focus', style: { 'border-width': 4, 'border-color': '#1f2933' } },
    {
      selector: 'edge',
      style: {
        width: 1.5,
        'line-color': '#9aa5b1',
        'curve-style': 'bezier',
        'font-size': 11,
        color: '#3e4c59',
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.9,
        'text-background-padding': '1px',
      },
    },
    // The role of each record sits at its own end of the line.
    {
      selector: 'edge[type = "PAIR"]',
      style: {
        'target-arrow-shape': 'triangle',
        'target-arrow-color': '#9aa5b1',
        'source-label': 'data(firstLabel)',
        'target-label': 'data(secondLabel)',
        'source-text-offset': 48,
        'target-text-offset': 48,
      },
    },
    { selector: 'edge[type = "SINGLE"]', style: { label: 'data(firstLabel)' } },
    { selector: '.faded', style: { opacity: 0.25 } },
    { selector: 'node.on-path', style: { 'border-width': 4, 'border-color': PATH_COLOUR } },
    {
      selector: 'edge.on-path',
      style: { width: 4, 'line-color': PATH_COLOUR, 'target-arrow-color': PATH_COLOUR, color: '#1f2933', 'z-index': 10 },
    },
  ],
});
// Tests and the curious reach the graph from the console.
window.cy = cy;

function objectStyle(objectKey) {
  if (!state.objects.has(objectKey)) state.objects.set(objectKey, { key: objectKey, singularName: objectKey, index: state.objects.size });
  const { index } = state.objects.get(objectKey);
  return { colour: COLOURS[index % COLOURS.length], shape: SHAPES[index % SHAPES.length] };
}

function addRecord(record, near) {
  state.names.set(record.id, record.displayName);
  const existing = cy.getElementById(record.id);
  if (existing.nonempty()) return false;
  const position = near ? { x: near.x + (Math.random() - 0.5) * 40, y: near.y + (Math.random() - 0.5) * 40 } : { x: 0, y: 0 };
  cy.add({
    group: 'nodes',
    data: { id: record.id, name: record.displayName, objectKey: record.object.key, objectName: record.object.singularName, ...objectStyle(record.object.key) },
    position,
  });
  return true;
}

function addAssociation(association) {
  if (cy.getElementById(association.id).nonempty()) return;
  const source = association.firstRecord.id;
  const target = association.secondRecord.id;
  if (cy.getElementById(source).empty() || cy.getElementById(target).empty()) return;
  cy.add({
    group: 'edges',
    data: {
      id: association.id,
      source,
      target,
      labelKey: association.label.key,
      type: association.label.type,
      firstLabel: association.label.firstLabel,
      secondLabel: association.label.secondLabel ?? '',
    },
  });
}

/** Rings around the root by hops from it; each ring in breadth-first order, so kin sit together. */
function layout() {
  const root = cy.getElementById(state.rootId);
  const level = new Map();
  const order = [];
  if (root.nonempty()) {
    cy.elements().bfs({
      roots: root,
      directed: false,
      visit: (node, edge, previous, index, depth) => {
        level.set(node.id(), depth);
        order.push(node);
      },
    });
  }
  const deepest = Math.max(0, ...level.values());
  const unreached = cy.nodes().filter((node) => !level.has(node.id()));
  const nodes = cy.collection(order).union(unreached);
  cy.nodes().removeClass('root');
  root.addClass('root');
  const run = nodes.layout({
    name: 'concentric',
    concentric: (node) => 100 - (level.get(node.id()) ?? deepest + 1),
    levelWidth: () => 1,
    minNodeSpacing: 90,
    spacingFactor: 1.3,
    avoidOverlap: true,
    animate,
    animationDuration: 350,
    padding: 40,
  });
  const done = run.promiseOn('layoutstop').then(() => {
    // A few records would otherwise fill the screen with giant labels.
    if (cy.zoom() > FIT_MAX_ZOOM) {
      cy.zoom(FIT_MAX_ZOOM);
      cy.center();
    }
  });
  run.run();
  return done;
}

function nameOf(id) {
  return state.names.get(id) ?? id;
}

function focus(id) {
  state.focusId = id;
  cy.nodes().removeClass('focus');
  cy.getElementById(id).addClass('focus');
}

function clearPath() {
  state.onPath = false;
  cy.elements().removeClass('faded on-path');
}

const depth = () => Number(document.querySelector('input[name="depth"]:checked')?.value ?? 1);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const drawn = () => `${plural(cy.nodes().length, 'record')} and ${plural(cy.edges().length, 'association')} drawn.`;

/** Starts over from one record. */
async function explore(id) {
  cy.elements().remove();
  state.expanded.clear();
  state.rootId = id;
  clearPath();
  history.replaceState(null, '', `#record=${encodeURIComponent(id)}`);
  await expand(id);
}

/** Draws the neighbourhood of `id` into the graph (what is drawn already stays). */
async function expand(id) {
  const hops = depth();
  if ((state.expanded.get(id) ?? 0) >= hops) {
    focus(id);
    status(`${nameOf(id)} is expanded already. ${drawn()}`);
    return;
  }
  const data = await graphql(NEIGHBORHOOD, { id, depth: hops });
  if (!data.record) throw new ApiError('This record no longer exists, or you cannot see it.');
  const { record } = data;
  const near = cy.getElementById(id).nonempty() ? { ...cy.getElementById(id).position() } : null;
  let added = 0;
  cy.batch(() => {
    if (addRecord(record, near)) added += 1;
    for (const node of record.neighborhood.nodes) if (addRecord(node.record, near)) added += 1;
    for (const association of record.neighborhood.edges) addAssociation(association);
  });
  state.expanded.set(id, hops);
  focus(id);
  if (state.onPath) clearPath();
  await layout();
  const found = record.neighborhood.nodes.filter((node) => node.record.id !== id).length;
  status(
    `${record.displayName}: ${plural(found, 'record')} within ${plural(hops, 'hop')}, ${added} new. ${drawn()}` +
      (record.neighborhood.truncated ? ' The neighbourhood was cut at its limit: some records are not shown.' : ''),
  );
}

/** Highlights the shortest path between two records, drawing what it needs. */
async function showPath(from, to) {
  const data = await graphql(PATH, { from, to });
  clearPath();
  if (!data.path) {
    status(`No path between ${nameOf(from)} and ${nameOf(to)} within ${MAX_HOPS} hops.`);
    return;
  }
  const { path } = data;
  const near = cy.getElementById(from).nonempty() ? { ...cy.getElementById(from).position() } : null;
  let added = 0;
  cy.batch(() => {
    for (const record of path.records) if (addRecord(record, near)) added += 1;
    for (const association of path.associations) addAssociation(association);
  });
  if (!state.rootId) state.rootId = from;
  if (added > 0) await layout();
  const onPath = cy.collection();
  for (const record of path.records) onPath.merge(cy.getElementById(record.id));
  for (const association of path.associations) onPath.merge(cy.getElementById(association.id));
  cy.elements().addClass('faded');
  onPath.removeClass('faded').addClass('on-path');
  state.onPath = true;
  status(`Shortest path, ${plural(path.length, 'hop')}: ${path.records.map((record) => record.displayName).join(' → ')}.`);
}

// ---- The page around it -------------------------------------------------------------------

function status(text) {
  $('#status').textContent = text;
  renderPanels();
}

function showError(error) {
  const box = $('#error');
  box.textContent = error instanceof ApiError ? error.message : `Something went wrong: ${error.message ?? error}`;
  box.hidden = false;
  if (!(error instanceof ApiError)) console.error(error);
}

function setBusy(delta) {
  state.busy += delta;
  document.body.dataset.busy = String(state.busy > 0);
  $('#graph').setAttribute('aria-busy', String(state.busy > 0));
}

/** Runs one user action: errors go to the page, `data-busy` says when it is over. */
async function act(action) {
  setBusy(+1);
  $('#error').hidden = true;
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    setBusy(-1);
  }
}

function element(tag, properties = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

const SVG = 'http://www.w3.org/2000/svg';

/** The colour and shape of an object's records, as drawn in the graph. */
function swatch(objectKey) {
  const { colour, shape } = objectStyle(objectKey);
  const icon = document.createElementNS(SVG, 'svg');
  icon.setAttribute('class', 'swatch');
  icon.setAttribute('viewBox', '0 0 16 16');
  icon.setAttribute('aria-hidden', 'true');
  const [tag, attributes] = ICONS[shape];
  const mark = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries({ ...attributes, fill: colour, stroke: '#3e4c59', 'stroke-width': 0.8 })) {
    mark.setAttribute(name, String(value));
  }
  icon.append(mark);
  return icon;
}

function renderLegend() {
  $('#legend').replaceChildren(
    ...[...state.objects.values()].map((object) => element('li', {}, swatch(object.key), object.singularName)),
  );
}

function renderPanels() {
  renderLegend();
  const nodes = cy.nodes().sort((a, b) => a.data('name').localeCompare(b.data('name')));
  const section = $('#selection');
  section.hidden = !state.focusId || cy.getElementById(state.focusId).empty();
  if (!section.hidden) {
    const node = cy.getElementById(state.focusId);
    $('#selection-name').textContent = `${node.data('name')} (${node.data('objectName')})`;
    const select = $('#path-target');
    const previous = select.value;
    select.replaceChildren(
      ...nodes.filter((other) => other.id() !== state.focusId).map((other) => element('option', { value: other.id(), textContent: other.data('name') })),
    );
    if ([...select.options].some((option) => option.value === previous)) select.value = previous;
    $('#path-button').disabled = select.options.length === 0;
  }
  $('#clear-path').hidden = !state.onPath;
  for (const button of document.querySelectorAll('.results .path')) {
    button.disabled = !state.focusId;
    if (state.focusId) button.setAttribute('aria-label', `Path from ${nameOf(state.focusId)} to ${button.dataset.name}`);
  }
  $('#node-list').replaceChildren(
    ...nodes.map((node) =>
      element(
        'li',
        {},
        element('button', {
          type: 'button',
          textContent: node.data('name'),
          title: 'Select and expand',
          onclick: () => act(() => expand(node.id())),
        }),
        ' ',
        element('span', { className: 'object', textContent: node.data('objectName') }),
      ),
    ),
  );
  $('#edge-list').replaceChildren(
    ...cy.edges().map((edge) => {
      const first = edge.source().data('name');
      const second = edge.target().data('name');
      const text =
        edge.data('type') === 'PAIR'
          ? `${first} (${edge.data('firstLabel')}) → ${second} (${edge.data('secondLabel')})`
          : `${first} ↔ ${second}: ${edge.data('firstLabel')}`;
      return element('li', { textContent: text });
    }),
  );
}

async function search() {
  const text = $('#search').value.trim();
  const chosen = $('#search-object').value;
  const keys = chosen ? [chosen] : [...state.objects.keys()].slice(0, SEARCHED_OBJECTS);
  const query = `query Search($filter: RecordFilter${keys.map((_, i) => `, $k${i}: String!`).join('')}) {
${keys.map((_, i) => `  r${i}: records(objectKey: $k${i}, first: ${RESULTS_PER_OBJECT}, filter: $filter) { totalCount edges { node { ${RECORD} } } }`).join('\n')}
}`;
  const variables = { filter: text ? { search: text } : null };
  keys.forEach((key, i) => (variables[`k${i}`] = key));
  const data = await graphql(query, variables);
  const items = [];
  let more = 0;
  keys.forEach((key, i) => {
    const connection = data[`r${i}`];
    more += connection.totalCount - connection.edges.length;
    for (const { node } of connection.edges) {
      state.names.set(node.id, node.displayName);
      items.push(
        element(
          'li',
          {},
          element(
            'button',
            { type: 'button', className: 'pick', onclick: () => act(() => explore(node.id)) },
            swatch(node.object.key),
            ' ',
            node.displayName,
            ' ',
            element('span', { className: 'object', textContent: node.object.singularName }),
          ),
          element('button', {
            type: 'button',
            className: 'path secondary',
            textContent: 'Path',
            title: 'Shortest path from the selected record',
            disabled: !state.focusId,
            onclick: () => act(() => showPath(state.focusId, node.id)),
          }),
        ),
      );
      items.at(-1).querySelector('.path').dataset.name = node.displayName;
    }
  });
  if (items.length === 0) items.push(element('li', { className: 'empty', textContent: text ? `No record matches “${text}”.` : 'No records yet.' }));
  else if (more > 0) items.push(element('li', { className: 'empty', textContent: `…and ${more} more: narrow the search.` }));
  $('#results').replaceChildren(...items);
  renderPanels();
}

// ---- Wiring -------------------------------------------------------------------------------

cy.on('tap', 'node', (event) => {
  const id = event.target.id();
  if (event.originalEvent?.shiftKey && state.focusId && state.focusId !== id) void act(() => showPath(state.focusId, id));
  else void act(() => expand(id));
});
cy.on('tap', (event) => {
  if (event.target === cy && state.onPath) {
    clearPath();
    status(drawn());
  }
});

$('#search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void act(search);
});
$('#search-object').addEventListener('change', () => void act(search));
$('#path-button').addEventListener('click', () => void act(() => showPath(state.focusId, $('#path-target').value)));
$('#clear-path').addEventListener('click', () => {
  clearPath();
  status(drawn());
});
$('#key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.apiKey = $('#api-key').value.trim();
  sessionStorage.setItem('relate-api-key', state.apiKey);
  $('#key-form').hidden = true;
  void act(start);
});

async function start() {
  const data = await graphql('{ objects { key singularName } }');
  for (const object of data.objects) {
    if (!state.objects.has(object.key)) state.objects.set(object.key, { ...object, index: state.objects.size });
    else state.objects.get(object.key).singularName = object.singularName;
  }
  $('#search-object').replaceChildren(
    element('option', { value: '', textContent: 'all objects' }),
    ...data.objects.map((object) => element('option', { value: object.key, textContent: object.singularName })),
  );
  renderLegend();
  await search();
  const fromLink = /^#record=(.+)$/.exec(location.hash)?.[1];
  if (fromLink) await explore(decodeURIComponent(fromLink));
  else status('Pick a record to draw its neighbourhood.');
}

if (state.apiKey) {
  void act(start).then(() => setBusy(-1));
} else {
  $('#key-form').hidden = false;
  status('An API key is needed.');
  setBusy(-1);
}
