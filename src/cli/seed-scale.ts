export async function seedScale(n: number): Promise<void> {
  throw new Error(`seed --scale ${n} is not available yet`);
}
