// oneDNN's C API (Debian libdnnl-dev 2.6.3: dnnl_sgemm, the ISA dispatcher, the version) and the
// two OpenMP calls that set its thread count: Debian builds oneDNN on the OpenMP runtime (libgomp),
// so its sgemm runs omp_get_max_threads() threads. Declared here rather than through omp.h, which
// is GCC's and not on clang's include path.
#include <oneapi/dnnl/dnnl.h>

void omp_set_num_threads(int count);
int omp_get_max_threads(void);
