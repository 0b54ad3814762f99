// Arrays of many megabytes (the forward cache, the dense Hessian, the Lanczos basis) on transparent
// huge pages where Linux offers them (`madvise` mode). Every kernel call allocates such arrays
// afresh, and the first touch of each 4 KB page is a page fault; on virtual machines a fault is
// expensive (bench machine: 88 MB, the forward cache of digits at width 1024, cost 300 ms of
// faults against 6 ms on 2 MB pages; bench/page-faults.ts). Values and results are unchanged:
// only where the bytes live. HESSBOUND_HUGE_PAGES=0 turns it off (for the A/B bench);
// WebAssembly and other systems allocate as usual.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#define HESSBOUND_HUGE_PAGES 1
#endif

namespace hessbound {

namespace large_array_detail {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kThreshold = std::size_t{4} << 20;  // smaller arrays: at most 2 pages' worth of faults

inline bool huge_pages_wanted() {
#ifdef HESSBOUND_HUGE_PAGES
  static const bool wanted = [] {
    const char* v = std::getenv("HESSBOUND_HUGE_PAGES");
    return !(v && v[0] == '0' && v[1] == '\0');
  }();
  return wanted;
#else
  return false;
#endif
}
}  // namespace large_array_detail

// malloc, or for large blocks 2 MB-aligned memory the kernel is asked to back with huge pages (a
// hint: without them it behaves as malloc). Throws std::bad_alloc.
inline void* large_allocate(std::size_t bytes) {
  using namespace large_array_detail;
  void* p = nullptr;
#ifdef HESSBOUND_HUGE_PAGES
  if (bytes >= kThreshold && huge_pages_wanted()) {
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    p = std::aligned_alloc(kHugePage, rounded);
    if (p) madvise(p, rounded, MADV_HUGEPAGE);
  }
#endif
  if (!p) p = std::malloc(bytes ? bytes : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

inline void large_free(void* p) noexcept { std::free(p); }

template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() noexcept = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(large_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept { large_free(p); }
  template <class U>
  bool operator==(const LargeAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const LargeAllocator<U>&) const noexcept { return false; }
};

// A vector of doubles that may be many megabytes.
using LargeArray = std::vector<double, LargeAllocator<double>>;

}  // namespace hessbound
