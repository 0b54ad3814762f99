/** Model and data formats beyond hessbound's JSON: safetensors, ONNX, NumPy .npy/.npz (browser-safe). */
export { parseModel, parseData, parseDataArrays, detectModelFormat, detectDataFormat, type ModelFormat, type DataFormat, type ParseModelOptions, type ParseDataOptions } from './model-source.js';
export { modelToSafetensors, modelFromSafetensors, parseSafetensors, writeSafetensors, type SafetensorsFile, type SafetensorsTensor, type SafetensorsModelOptions } from './safetensors.js';
export { modelFromOnnx } from './onnx.js';
export { parseNpy, type NumericArray } from './npy.js';
export { parseNpz, parseNpzDataset, datasetFromArrays } from './npz.js';
