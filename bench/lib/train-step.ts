/**
 * One Adam step of `train()`, ms, with the call's fixed work cancelled: every call also does work
 * after its steps (a TypeScript forward pass for accuracy and saturation, a loss + gradient, the
 * diagnostics) that would hide the steps' own time, so a step is ((1 + extra)-step call - 1-step call)
 * / extra (extra = 30 unless given).
 */
import { train, type BackendName, type Dataset, type Model } from '../../src/index.js';

export async function adamStepMs(model: Model, data: Dataset, backend: BackendName, extra = 30): Promise<{ step: number; fixed: number }> {
  const call = async (steps: number) => {
    const t = performance.now();
    await train(model, data, { maxSteps: steps, adamSteps: steps, gradTol: 0, weightDecay: 0, backend }); // no decay, as the PyTorch peer
    return performance.now() - t;
  };
  const one = await call(1);
  const many = await call(1 + extra);
  const step = (many - one) / extra;
  return { step, fixed: one - step };
}
