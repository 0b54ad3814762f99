/** Redis keys hessbound keeps beside BullMQ's own (`bull:<queue>:*`). */
export function dataKey(queueName: string, id: string): string {
  return `hessbound:${queueName}:data:${id}`;
}
