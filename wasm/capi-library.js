// JS functions the C ABI (wasm/capi.cpp) imports, linked with --js-library. A library function
// rather than EM_JS: the relaxed-SIMD modules are linked without Binaryen (wasm/wasm.cmake), and
// emcc 3.1.6's own metadata reader does not resolve EM_JS functions.
mergeInto(LibraryManager.library, {
  // Progress goes to an optional JS function the caller puts on the module object for one call
  // (the call is synchronous, so the callback runs on the caller's thread while the kernel works).
  hb_progress_js: function (fraction) {
    if (Module['hbProgress']) Module['hbProgress'](fraction);
  },
});
