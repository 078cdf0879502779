// oneDNN's C API (Debian libdnnl-dev 2.6.3: dnnl_sgemm, the ISA dispatcher, the version) and the
// two OpenMP calls that set its thread count: Debian builds oneDNN on the OpenMP runtime (libgomp),
// so its sgemm runs omp_get_max_threads() threads. Declared here rather than through omp.h, which
// is GCC's and not on clang's include path.
#include <oneapi/dnnl/dnnl.h>

void omp_set_num_threads(int count);
int omp_get_max_threads(void);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
// libgomp's entry for `#pragma omp parallel num_threads(n)`: runs fn(data) on every thread of a
// team of n (the caller is thread 0). Our own parallel parts run through it when oneDNN computes,
// so that they share oneDNN's threads instead of competing with them for the cores.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
