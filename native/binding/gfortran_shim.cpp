// The one Fortran runtime routine the static OpenBLAS/LAPACK archives call (LAPACK's ILAENV builds
// option strings with Fortran's // operator). Linking Debian's libgfortran.a into a shared object
// is impossible (its async.o uses local-exec TLS), and the shared libgfortran is what the prebuilt
// addon must not need, so this implements the operator's documented semantics: dest = s1 // s2,
// truncated or blank-padded to dest's length (lengths are size_t since GCC 8).
#include <cstddef>
#include <cstring>

extern "C" __attribute__((visibility("hidden"))) void _gfortran_concat_string(std::size_t destlen, char* dest,
                                                                              std::size_t len1, const char* s1,
                                                                              std::size_t len2, const char* s2) {
  const std::size_t first = len1 < destlen ? len1 : destlen;
  std::memmove(dest, s1, first);
  if (first == destlen) return;
  const std::size_t rest = destlen - first;
  const std::size_t second = len2 < rest ? len2 : rest;
  std::memmove(dest + first, s2, second);
  std::memset(dest + first + second, ' ', rest - second);
}
