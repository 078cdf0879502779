// OpenBLAS's own cblas.h (pkg-config points at the openblas-pthread variant), which also declares
// openblas_set_num_threads / openblas_get_config.
#include <cblas.h>
