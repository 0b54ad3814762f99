# The WebAssembly twin: wasm/capi.cpp linked against the same hessbound_kernel library the addon
# uses (built on Eigen under Emscripten). Included from the root CMakeLists.txt when EMSCRIPTEN.
# Output: wasm/dist/hessbound-wasm.js (MODULARIZE factory `HessboundWasm`) + hessbound-wasm.wasm.
#
# HESSBOUND_WASM_VARIANT=relaxed (a second build directory, scripts/build-wasm.mjs) makes the same
# two modules with relaxed SIMD (f64x2.relaxed_madd, i.e. FMA, in the hot products):
# hessbound-wasm-relaxed.* and hessbound-wasm-mt-relaxed.* (factories HessboundWasmRelaxed,
# HessboundWasmMtRelaxed). Debian's emcc 3.1.6 drives clang-14, which knows only the pre-standard
# relaxed opcodes (engines reject them) and not __builtin_wasm_relaxed_madd_f64x2; so emcc runs
# clang-16 instead (EM_CLANG_ADD_VERSION=16; its wasm-ld-14 links the objects unchanged). Binaryen
# 108 cannot read the final opcodes either, so that variant is linked without it: -O1 (no wasm-opt
# pass; the objects are -O3 already), metadata read by emcc's Python reader, and BigInt i64 at the
# JS boundary (no legalization pass).

set(HESSBOUND_WASM_DIST ${CMAKE_SOURCE_DIR}/wasm/dist)
set(HESSBOUND_WASM_VARIANT "simd128" CACHE STRING "simd128 (the default modules) or relaxed (relaxed SIMD, FMA)")

# Exceptions and SIMD must be the same in every object: wasm-native exceptions (no JS trampolines,
# supported by Node >= 17 and Chromium >= 95) so kernel errors unwind cheaply and stay catchable.
if(HESSBOUND_WASM_VARIANT STREQUAL "relaxed")
  find_program(HESSBOUND_CLANG16 clang-16 REQUIRED)
  set(HESSBOUND_WASM_FLAGS -msimd128 -mrelaxed-simd -fwasm-exceptions)
  set(HESSBOUND_WASM_SUFFIX "-relaxed")
  set(HESSBOUND_WASM_EXPORT_SUFFIX "Relaxed")
  set(HESSBOUND_WASM_LINK_OPT -O1 -sASSERTIONS=0 -sWASM_BIGINT=1)
  # emcc keeps the name section at -O1 (a third of the file); llvm-objcopy (emscripten's own
  # dependency) drops it after the link, as wasm-opt does for the SIMD128 modules.
  find_program(HESSBOUND_OBJCOPY NAMES llvm-objcopy-14 llvm-objcopy REQUIRED)
  set(HESSBOUND_WASM_LAUNCHER ${CMAKE_COMMAND} -E env EM_CLANG_ADD_VERSION=16 EMCC_READ_METADATA=python)
elseif(HESSBOUND_WASM_VARIANT STREQUAL "simd128")
  set(HESSBOUND_WASM_FLAGS -msimd128 -fwasm-exceptions)
  set(HESSBOUND_WASM_SUFFIX "")
  set(HESSBOUND_WASM_EXPORT_SUFFIX "")
  set(HESSBOUND_WASM_LINK_OPT -O3)
  set(HESSBOUND_WASM_LAUNCHER "")
else()
  message(FATAL_ERROR "HESSBOUND_WASM_VARIANT must be simd128 or relaxed, not '${HESSBOUND_WASM_VARIANT}'")
endif()
target_compile_options(hessbound_kernel PUBLIC ${HESSBOUND_WASM_FLAGS})

add_executable(hessbound_wasm wasm/capi.cpp)
target_compile_options(hessbound_wasm PRIVATE -O3 -Wall -Wextra)
target_link_libraries(hessbound_wasm PRIVATE hessbound_kernel)
set_target_properties(hessbound_wasm PROPERTIES
  OUTPUT_NAME hessbound-wasm${HESSBOUND_WASM_SUFFIX}
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
  -sFILESYSTEM=0
  # The JS functions capi.cpp imports.
  --js-library ${CMAKE_SOURCE_DIR}/wasm/capi-library.js)
target_link_options(hessbound_wasm PRIVATE
  ${HESSBOUND_WASM_LINK_OPT} ${HESSBOUND_WASM_FLAGS} ${HESSBOUND_WASM_LINK_OPTIONS} -sEXPORT_NAME=HessboundWasm${HESSBOUND_WASM_EXPORT_SUFFIX})

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
  OUTPUT_NAME hessbound-wasm-mt${HESSBOUND_WASM_SUFFIX}
  SUFFIX ".js"
  RUNTIME_OUTPUT_DIRECTORY ${HESSBOUND_WASM_DIST})
target_link_options(hessbound_wasm_mt PRIVATE
  ${HESSBOUND_WASM_LINK_OPT} ${HESSBOUND_WASM_MT_FLAGS} ${HESSBOUND_WASM_LINK_OPTIONS} -sEXPORT_NAME=HessboundWasmMt${HESSBOUND_WASM_EXPORT_SUFFIX}
  # Workers started with the module (the host sets Module.hbPoolSize = threads - 1): the calling
  # thread blocks while the kernel's threads run, so a worker cannot be started on demand then;
  # STRICT=2 makes a thread the pool cannot give fail at once (the kernel then uses fewer).
  "-sPTHREAD_POOL_SIZE=Module['hbPoolSize']|0"
  -sPTHREAD_POOL_SIZE_STRICT=2)

if(HESSBOUND_WASM_VARIANT STREQUAL "relaxed")
  foreach(target hessbound_wasm hessbound_wasm_mt)
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${HESSBOUND_OBJCOPY} --remove-section=name $<TARGET_FILE_DIR:${target}>/$<TARGET_FILE_BASE_NAME:${target}>.wasm)
  endforeach()
endif()
if(HESSBOUND_WASM_LAUNCHER)
  set_target_properties(hessbound_kernel hessbound_wasm hessbound_kernel_mt hessbound_wasm_mt PROPERTIES
    CXX_COMPILER_LAUNCHER "${HESSBOUND_WASM_LAUNCHER}"
    CXX_LINKER_LAUNCHER "${HESSBOUND_WASM_LAUNCHER}")
endif()
