/**
 * Turns a PyTorch state_dict (tensor name -> float64 values and shape) into the layers of an MLP:
 * `nn.Sequential` names (`0.weight`, `2.bias`), nested ones (`net.0.weight`,
 * `model.layers.0.weight`) ordered by their index, or named modules (`fc1`, `head`) ordered by
 * chaining their shapes when exactly one order chains (else the caller must give the order).
 */
import { fail } from '../errors.js';
import { checkLayerCount } from '../resources/layer-limit.js';
import type { Layer } from '../types.js';
import { describeShape } from './bytes.js';

export interface NamedTensor {
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

interface Module {
  name: string;
  weight?: NamedTensor;
  bias?: NamedTensor;
}

const LAYER_ORDER_HINT = 'pass the order of the linear modules, input to output: --layer-order (CLI) or layerOrder (API)';

/** Groups `prefix.weight` / `prefix.bias` tensors by module; anything else is not an MLP's. */
function groupModules(tensors: ReadonlyMap<string, NamedTensor>): Module[] {
  const modules = new Map<string, Module>();
  for (const [name, tensor] of tensors) {
    const match = /^(.*)\.(weight|bias)$/.exec(name) ?? /^()(weight|bias)$/.exec(name);
    if (!match) {
      fail(
        'BAD_MODEL',
        `tensor "${name}" is not the weight or bias of a linear layer`,
        'hessbound reads MLPs made of nn.Linear layers only (no batch norm, embeddings or buffers); save just those',
      );
    }
    const [, prefix, kind] = match as unknown as [string, string, 'weight' | 'bias'];
    const module = modules.get(prefix) ?? { name: prefix };
    module[kind] = tensor;
    modules.set(prefix, module);
  }
  return [...modules.values()];
}

function toLayer(module: Module): Layer {
  const label = module.name === '' ? 'the module' : `module "${module.name}"`;
  const { weight, bias } = module;
  if (!weight) fail('BAD_MODEL', `${label} has a bias but no weight`);
  if (weight.shape.length !== 2) {
    const what = weight.shape.length === 1 ? ' (a normalisation layer\'s scale?)' : weight.shape.length > 2 ? ' (a convolution?)' : '';
    fail('BAD_MODEL', `${label}'s weight has shape ${describeShape(weight.shape)}${what}; a linear layer's weight is 2-D (out x in)`,
      'hessbound reads MLPs made of nn.Linear layers only');
  }
  const [out, inputs] = weight.shape as [number, number];
  if (out === 0 || inputs === 0) fail('BAD_MODEL', `${label}'s weight has shape ${describeShape(weight.shape)}; it needs at least one row and column`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== out)) {
    fail('SHAPE_MISMATCH', `${label}'s bias has shape ${describeShape(bias.shape)} but its weight has ${out} outputs (shape ${describeShape(weight.shape)})`);
  }
  return { out, in: inputs, weight: weight.values, bias: bias ? bias.values : null };
}

/**
 * The index that orders Sequential-style names: the one dot-separated segment in which the
 * module names differ, when it is an integer in all of them (`net.0` / `net.2`,
 * `layers.0.linear` / `layers.1.linear`). Null for named modules.
 */
function indexOrder(names: readonly string[]): number[] | null {
  const split = names.map((name) => name.split('.'));
  const length = split[0]?.length ?? 0;
  if (names.length < 2 || split.some((segments) => segments.length !== length)) return null;
  const differing = Array.from({ length }, (_, i) => i).filter((i) => split.some((s) => s[i] !== split[0]?.[i]));
  if (differing.length !== 1) return null;
  const position = differing[0] as number;
  const indices = split.map((s) => s[position] as string);
  if (!indices.every((segment) => /^\d+$/.test(segment))) return null;
  return indices.map(Number);
}

/** Search budget: beyond it the order is reported as ambiguous rather than searched for longer. */
const MAX_ORDER_SEARCH_STEPS = 100_000;

/**
 * Orders of `layers` in which each layer's inputs equal the previous layer's outputs. Stops at 2;
 * also returns 2 when the search budget runs out (the caller then asks for the order).
 */
function chainingOrders(layers: readonly Layer[]): number[][] {
  const found: number[][] = [];
  let steps = 0;
  const used = new Array<boolean>(layers.length).fill(false);
  const path: number[] = [];
  const extend = (): void => {
    if (found.length >= 2) return;
    if (++steps > MAX_ORDER_SEARCH_STEPS) {
      found.push([], []);
      return;
    }
    if (path.length === layers.length) {
      found.push([...path]);
      return;
    }
    const last = path.length > 0 ? layers[path[path.length - 1] as number] : undefined;
    layers.forEach((layer, i) => {
      if (used[i] || (last && layer.in !== last.out)) return;
      used[i] = true;
      path.push(i);
      extend();
      path.pop();
      used[i] = false;
    });
  };
  extend();
  return found;
}

/** A likely order for the hint: natural sort, output-looking names (head, out, classifier) last. */
function suggestedOrder(modules: readonly Module[]): string {
  const isOutput = (name: string) => /head|out|classifier|logits|final/i.test(name);
  return modules.map((m) => m.name)
    .sort((a, b) => Number(isOutput(a)) - Number(isOutput(b)) || a.localeCompare(b, 'en', { numeric: true }))
    .join(',');
}

function describeModules(modules: readonly Module[], layers: readonly Layer[]): string {
  return modules.map((m, i) => `${m.name} (${(layers[i] as Layer).out}x${(layers[i] as Layer).in})`).join(', ');
}

function orderByName(modules: readonly Module[], layerOrder: readonly string[]): number[] {
  const names = modules.map((m) => m.name);
  const order = layerOrder.map((name) => {
    const index = names.indexOf(name.trim());
    if (index < 0) fail('BAD_OPTION', `the layer order names "${name}", which is not a linear module of the model; modules: ${names.join(', ')}`);
    return index;
  });
  if (new Set(order).size !== order.length || order.length !== names.length) {
    fail('BAD_OPTION', `the layer order must name each linear module exactly once; it has ${layerOrder.join(',')} and the modules are ${names.join(', ')}`);
  }
  return order;
}

/** The model's layers, input to output. `layerOrder` (module names) overrides the inferred order. */
export function layersFromNamedTensors(tensors: ReadonlyMap<string, NamedTensor>, layerOrder?: readonly string[]): Layer[] {
  const modules = groupModules(tensors);
  if (modules.length === 0) fail('BAD_MODEL', 'the file holds no tensors', 'save the model\'s state_dict (its nn.Linear weights and biases)');
  checkLayerCount(modules.length, 'the file\'s model');
  const layers = modules.map(toLayer);
  if (layerOrder && layerOrder.length > 0) return orderByName(modules, layerOrder).map((i) => layers[i] as Layer);
  const indices = indexOrder(modules.map((m) => m.name));
  if (indices) {
    return modules.map((_, i) => i).sort((a, b) => (indices[a] as number) - (indices[b] as number)).map((i) => layers[i] as Layer);
  }
  if (modules.length === 1) return layers;
  const orders = chainingOrders(layers);
  if (orders.length === 0) {
    fail('SHAPE_MISMATCH', `the linear modules' shapes do not chain in any order: ${describeModules(modules, layers)}`,
      'each layer must take as many inputs as the previous one has outputs; check that the file holds one MLP');
  }
  if (orders.length > 1) {
    fail('BAD_MODEL', `the order of the named modules is ambiguous: more than one order chains their shapes (${describeModules(modules, layers)})`,
      `${LAYER_ORDER_HINT}, e.g. --layer-order ${suggestedOrder(modules)}`,
      `pass the order of the linear modules, input to output, e.g. --layer-order ${suggestedOrder(modules)}`);
  }
  return (orders[0] as number[]).map((i) => layers[i] as Layer);
}
