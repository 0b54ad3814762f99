# The WebAssembly twin: wasm/capi.cpp linked against the same hessbound_kernel library the addon
# uses (built on Eigen under Emscripten). Included from the root CMakeLists.txt when EMSCRIPTEN.
# Output: wasm/dist/hessbound-wasm.js (MODULARIZE factory `HessboundWasm`) + hessbound-wasm.wasm.

set(HESSBOUND_WASM_DIST ${CMAKE_SOURCE_DIR}/wasm/dist)

# Exceptions and SIMD must be the same in every object: wasm-native exceptions (no JS trampolines,
# supported by Node >= 17 and Chromium >= 95) so kernel errors unwind cheaply and stay catchable.
set(HESSBOUND_WASM_FLAGS -msimd128 -fwasm-exceptions)
target_compile_options(hessbound_kernel PUBLIC ${HESSBOUND_WASM_FLAGS})

add_executable(hessbound_wasm wasm/capi.cpp)
target_compile_options(hessbound_wasm PRIVATE -O3 -Wall -Wextra)
target_link_libraries(hessbound_wasm PRIVATE hessbound_kernel)
set_target_properties(hessbound_wasm PROPERTIES
  OUTPUT_NAME hessbound-wasm
  SUFFIX ".js"
  RUNTIME_OUTPUT_DIRECTORY ${HESSBOUND_WASM_DIST})
# Link options both modules share.
set(HESSBOUND_WASM_LINK_OPTIONS
  # A factory function, not an ES module: EXPORT_ES6 glue of emscripten 3.1.6 breaks under Node ESM.
  -sMODULARIZE=1
  -sENVIRONMENT=web,worker,node
  # Grow to the wasm32 ceiling; a failed malloc returns null (-> std::bad_alloc), never aborts.
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sABORTING_MALLOC=0
  # A library must not install process-wide handlers in Node.
  -sNODEJS_CATCH_EXIT=0 -sNODEJS_CATCH_REJECTION=0
  -sFILESYSTEM=0)
target_link_options(hessbound_wasm PRIVATE
  -O3 ${HESSBOUND_WASM_FLAGS} ${HESSBOUND_WASM_LINK_OPTIONS} -sEXPORT_NAME=HessboundWasm)

# The glue is CommonJS-style; this keeps Node from reading it as ESM inside our "type": "module" package.
file(WRITE ${HESSBOUND_WASM_DIST}/package.json "{ \"type\": \"commonjs\" }\n")

# The threaded twin (issue 15): the same sources and C ABI compiled with -pthread (every object of a
# shared-memory module must be), so the kernel's threads over samples (sample_chunks.cpp) become Web
# Workers. Output: wasm/dist/hessbound-wasm-mt.{js,wasm,worker.js}. Needs SharedArrayBuffer: Node, or
# a cross-origin-isolated page; the single-threaded module above stays the fallback.
set(HESSBOUND_WASM_MT_FLAGS ${HESSBOUND_WASM_FLAGS} -pthread)
add_library(hessbound_kernel_mt STATIC ${HESSBOUND_KERNEL_SOURCES})
target_compile_options(hessbound_kernel_mt PRIVATE -O3 -Wall -Wextra)
target_compile_options(hessbound_kernel_mt PUBLIC ${HESSBOUND_WASM_MT_FLAGS})
target_include_directories(hessbound_kernel_mt PUBLIC ${EIGEN3_INCLUDE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/native/kernel)
target_compile_definitions(hessbound_kernel_mt PUBLIC EIGEN_MPL2_ONLY EIGEN_NO_DEBUG)

add_executable(hessbound_wasm_mt wasm/capi.cpp)
target_compile_options(hessbound_wasm_mt PRIVATE -O3 -Wall -Wextra)
target_link_libraries(hessbound_wasm_mt PRIVATE hessbound_kernel_mt)
set_target_properties(hessbound_wasm_mt PROPERTIES
  OUTPUT_NAME hessbound-wasm-mt
  SUFFIX ".js"
  RUNTIME_OUTPUT_DIRECTORY ${HESSBOUND_WASM_DIST})
target_link_options(hessbound_wasm_mt PRIVATE
  -O3 ${HESSBOUND_WASM_MT_FLAGS} ${HESSBOUND_WASM_LINK_OPTIONS} -sEXPORT_NAME=HessboundWasmMt
  # Workers started with the module (the host sets Module.hbPoolSize = threads - 1): the calling
  # thread blocks while the kernel's threads run, so a worker cannot be started on demand then;
  # STRICT=2 makes a thread the pool cannot give fail at once (the kernel then uses fewer).
  "-sPTHREAD_POOL_SIZE=Module['hbPoolSize']|0"
  -sPTHREAD_POOL_SIZE_STRICT=2)
