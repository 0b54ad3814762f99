/**
 * 16-bit floats to float64, exactly: every float16 and bfloat16 value is a float64 value, so the
 * conversion rounds nothing. Pure TypeScript (no Node built-ins).
 */

/** IEEE 754 binary16 bits (sign 1, exponent 5, mantissa 10) to the number they encode. */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

const bfloatScratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits (the upper half of a float32) to the number they encode. */
export function bfloat16BitsToNumber(bits: number): number {
  bfloatScratch.setUint32(0, (bits & 0xffff) << 16 >>> 0, true);
  return bfloatScratch.getFloat32(0, true);
}
