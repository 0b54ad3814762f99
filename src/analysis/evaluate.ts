/** Accuracy and mean cross-entropy of a model on a data set (the generalization numbers). Pure. */
import { toDatasetInput, toModel, type DataInput, type ModelInput } from '../inputs.js';
import { validateModelForData } from '../model.js';
import { forwardPass, type ForwardPass } from './forward.js';
import { classOf } from './split.js';

export interface Evaluation {
  samples: number;
  /** Fraction of samples whose largest logit is their class (label, or argmax of the soft target). */
  accuracy: number;
  /** Mean softmax cross-entropy against the targets. */
  loss: number;
}

/** `forward`: forwardPass(model, data) when the caller has it already (it is computed otherwise). */
export function evaluateModel(modelInput: ModelInput, dataInput: DataInput, forward?: ForwardPass): Evaluation {
  const model = toModel(modelInput);
  const data = toDatasetInput(dataInput);
  validateModelForData(model, data);
  const { logits } = forward ?? forwardPass(model, data);
  const c = data.classes;
  const cls = classOf(data);
  let correct = 0;
  let loss = 0;
  for (let s = 0; s < data.n; s++) {
    let best = 0;
    let max = -Infinity;
    for (let k = 0; k < c; k++) {
      const z = logits[s * c + k] as number;
      if (z > max) (max = z), (best = k);
    }
    let sum = 0;
    for (let k = 0; k < c; k++) sum += Math.exp((logits[s * c + k] as number) - max);
    const logSum = max + Math.log(sum);
    for (let k = 0; k < c; k++) {
      const t = data.targets[s * c + k] as number;
      if (t !== 0) loss += t * (logSum - (logits[s * c + k] as number));
    }
    if (best === cls[s]) correct++;
  }
  return { samples: data.n, accuracy: data.n ? correct / data.n : Number.NaN, loss: data.n ? loss / data.n : Number.NaN };
}
