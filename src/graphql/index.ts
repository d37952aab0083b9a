import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './workspace.js';
import './user.js';
import './object.js';
import './record.js';
import './association-label.js';
import './association.js';
import './association-event.js';
import './limit-usage.js';
import './graph.js';
import './webhook.js';
import './import.js';

export const schema = builder.toSchema({ sortSchema: true });

export const printedSchema = () => printSchema(lexicographicSortSchema(schema));
