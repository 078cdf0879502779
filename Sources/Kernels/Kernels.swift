// Kernels: the numeric building blocks under the model.
//
// Dimension letters, used in every shape comment of the project (defined here, once):
//   B batch (sentences or beam rows), S source length, T target length, E embedding size,
//   H hidden size, V vocabulary size, K beam width, N = steps·B rows of a time-major matrix.
//
// Layout: matrices are row-major; time-major sequences store one time step as a contiguous
// [B, ·] block, so a whole sequence [S, B, E] is also a row-major [S·B, E] matrix.
// Only this module imports CBLAS; no C type appears in its public API.
