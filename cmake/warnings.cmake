# qinfer_target_defaults(target): warnings, werror, sanitizers, native flags for every qinfer target.
function(qinfer_target_defaults target)
  # Host C++ only: nvcc passes its own diagnostics (CUDA sources get -Xptxas=-warn-spills in src/CMakeLists.txt).
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                         -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough>)
  # No FMA contraction in host C++: GCC's C++ default is -ffp-contract=fast, which fuses a*b+c differently per
  # inlining context once -march=native enables FMA, so the CPU reference would change with QINFER_NATIVE and lose
  # its bitwise invariants (e.g. linear row t alone == row t of a batch). Separate mul/add everywhere instead.
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off>)
  # GCC 12 reports false -Wrestrict overlaps inside libstdc++'s std::string operator+ at -O3 (GCC bug 105329); seen
  # in tools/kbench. Real overlaps are what the ASan run catches.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  endif()
  if(QINFER_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>
                           $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>)
  endif()
  if(QINFER_NATIVE)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-march=native>)
  endif()
  set(_san "")
  if(QINFER_SANITIZE_ADDRESS)
    list(APPEND _san address)
  endif()
  if(QINFER_SANITIZE_UNDEFINED)
    list(APPEND _san undefined)
  endif()
  if(_san)
    # GCC documents that sanitizer instrumentation produces false -Wmaybe-uninitialized reports (seen here inside
    # libstdc++'s std::regex / std::function with -O2 -fsanitize=address,undefined). Real uninitialized reads are
    # what the sanitizer run itself catches; the warning stays on (and fatal) in the normal -Werror build.
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
    list(JOIN _san "," _san_list)
    target_compile_options(${target} PRIVATE
                           $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${_san_list} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
    target_link_options(${target} PRIVATE -fsanitize=${_san_list})
  endif()
endfunction()
