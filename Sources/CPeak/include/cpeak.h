// CPeak: loops of independent multiply-add chains that measure a core's arithmetic peak for
// `seq2seq bench int8` (the ceiling the int8 and float32 kernels are compared with). Each call
// runs `iterations` loop trips and returns how many multiply-adds it did (1 multiply-add = 2 ops).
// And the round trip of a cache line between two CPUs (`seq2seq doctor`, `bench train`).
#ifndef CPEAK_H
#define CPEAK_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the CPU has AVX2 and FMA, else 0.
int cpeak_has_avx2_fma(void);
/// 1 when the CPU has AVX512F and AVX512-VNNI, else 0.
int cpeak_has_avx512vnni(void);
/// 1 when the CPU has AVX512F, else 0.
int cpeak_has_avx512f(void);
/// float32 on AVX-512: 12 chains of vfmadd231ps zmm (16 multiply-adds each) per trip.
long cpeak_fma32_avx512(long iterations);
/// float32: 12 chains of vfmadd231ps ymm (8 multiply-adds each) per trip.
long cpeak_fma32(long iterations);
/// int8 on AVX2: 6 chains of vpmaddubsw + vpmaddwd + vpaddd ymm (32 multiply-adds each) per trip.
long cpeak_int8_avx2(long iterations);
/// int8 on AVX512-VNNI: 12 chains of vpdpbusd zmm (64 multiply-adds each) per trip.
long cpeak_int8_vnni(long iterations);

/// The mean time in nanoseconds of one cache line's round trip between two threads pinned to CPUs
/// `cpu_a` and `cpu_b` (each waits for the other's write, then writes), over `trips` round trips;
/// -1 when the two are one CPU, when either is not in the calling thread's affinity or cannot be
/// pinned, or when `trips` is not in 1…2^40. The clock starts once the second thread runs. The
/// calling thread's affinity is restored. Measured 79–97 ns between two vCPUs that share an L3 and
/// 350–396 ns between core complexes that do not (the Zen 5 VM's two phases, 2026-12-07): what a
/// hand-over of data between two threads costs. Both threads spin (yielding now and then), so on
/// a busy machine the figure includes waits for the CPU.
double cpeak_round_trip_ns(int cpu_a, int cpu_b, long trips);
/// The CPUs the calling thread may run on, in increasing order: the first `capacity` into `cpus`;
/// returns how many there are (-1 when the affinity cannot be read).
int cpeak_allowed_cpus(int *cpus, int capacity);

#ifdef __cplusplus
}
#endif

#endif
