// CPeak: loops of independent multiply-add chains that measure a core's arithmetic peak for
// `seq2seq bench int8` (the ceiling the int8 and float32 kernels are compared with). Each call
// runs `iterations` loop trips and returns how many multiply-adds it did (1 multiply-add = 2 ops).
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

#ifdef __cplusplus
}
#endif

#endif
