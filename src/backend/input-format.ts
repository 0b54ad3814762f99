/**
 * HESSBOUND_SPARSE_INPUTS: how the kernel's Hessian-vector products read the inputs X in layer 0
 * (native/kernel/curvature/sparse_inputs.hpp): `auto` (default: compressed rows when X is mostly
 * zeros), `dense` or `sparse`. Same math either way (results agree to rounding); the setting exists
 * to compare and measure the two. The native kernel reads the variable itself; the WebAssembly
 * module is told at load (its getenv does not see process.env). Unknown words are rejected here.
 */
import { HessboundError } from '../errors.js';

export const INPUT_FORMATS = ['auto', 'dense', 'sparse'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** The requested format (`auto` when unset or empty). */
export function requestedInputFormat(): InputFormat {
  const raw = typeof process !== 'undefined' ? process.env?.['HESSBOUND_SPARSE_INPUTS'] : undefined;
  if (raw === undefined || raw === '') return 'auto';
  if ((INPUT_FORMATS as readonly string[]).includes(raw)) return raw as InputFormat;
  throw new HessboundError(
    'BAD_OPTION',
    `HESSBOUND_SPARSE_INPUTS='${raw}' is not an input format`,
    `use one of ${INPUT_FORMATS.join(', ')} (lower case), or leave it unset for auto`,
  );
}

/** The kernel's code for the format (InputFormat in sparse_inputs.hpp). */
export function inputFormatCode(format: InputFormat): number {
  return INPUT_FORMATS.indexOf(format);
}
