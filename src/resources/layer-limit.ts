/**
 * The most layers a model may have, checked before any layer is built (JSON models, state_dicts,
 * random models, models made in code). Without it a 100,000-layer JSON model went through parsing
 * and into minutes of kernel work before any check; every computation here walks the layers (the
 * forward pass, Hessian-vector products, the Kronecker blocks), and the exact Hessian of a network
 * that deep is out of reach anyway.
 */
import { fail } from '../errors.js';

export const MAX_LAYERS = 1000;

/**
 * Refuses `count` layers above MAX_LAYERS (TOO_LARGE), naming what holds them. `countedUpTo`: the
 * count stopped there (the model has more layers than that; how many was not counted).
 */
export function checkLayerCount(count: number, what: string, countedUpTo?: number): void {
  if (count > MAX_LAYERS)
    fail(
      'TOO_LARGE',
      `${what} has ${countedUpTo !== undefined && count > countedUpTo ? `more than ${countedUpTo.toLocaleString('en-US')}` : count.toLocaleString('en-US')} layers; hessbound takes at most ${MAX_LAYERS.toLocaleString('en-US')}`,
      `use at most ${MAX_LAYERS - 1} hidden layers; is this file the model you meant?`,
    );
}
