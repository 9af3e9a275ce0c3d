/** The driver's waiting time: the union of what it waits on, so its own work is what is left of a stage. */
import { WaitingTime } from '../../src/rollout/waiting-time';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('overlapping waits count once; time between them is not waiting', async () => {
  const waiting = new WaitingTime();
  await Promise.all([waiting.during(pause(100)), waiting.during(pause(60))]);
  const afterOverlap = waiting.milliseconds;
  expect(afterOverlap).toBeGreaterThanOrEqual(95);
  expect(afterOverlap).toBeLessThan(150);
  await pause(100);
  expect(waiting.milliseconds).toBe(afterOverlap);
  await expect(waiting.during(Promise.reject(new Error('refused')))).rejects.toThrow('refused');
  await waiting.during(pause(50));
  expect(waiting.milliseconds - afterOverlap).toBeGreaterThanOrEqual(45);
  expect(waiting.milliseconds - afterOverlap).toBeLessThan(100);
});
