// Peak loops in inline assembly, so the compiler can neither hoist the loop-invariant products
// nor drop the unused sums. Chains are independent: the loop is bound by the multiply units'
// throughput, not by any latency (12 FMA chains cover Zen's 2 pipes × 5 cycles; the int8 chains
// carry only a 1-cycle vpaddd, and each vpdpbusd chain has 12 in flight).
#define _GNU_SOURCE
#include "cpeak.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

int cpeak_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

int cpeak_has_avx512vnni(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni") ? 1 : 0;
}

#define YMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
    "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc"

__attribute__((target("avx2,fma"))) long cpeak_fma32(long iterations) {
    long n = iterations;
    if (n <= 0) return 0;
    __asm__ volatile(
        "vxorps %%ymm0, %%ymm0, %%ymm0\n\t" "vxorps %%ymm1, %%ymm1, %%ymm1\n\t"
        "vxorps %%ymm2, %%ymm2, %%ymm2\n\t" "vxorps %%ymm3, %%ymm3, %%ymm3\n\t"
        "vxorps %%ymm4, %%ymm4, %%ymm4\n\t" "vxorps %%ymm5, %%ymm5, %%ymm5\n\t"
        "vxorps %%ymm6, %%ymm6, %%ymm6\n\t" "vxorps %%ymm7, %%ymm7, %%ymm7\n\t"
        "vxorps %%ymm8, %%ymm8, %%ymm8\n\t" "vxorps %%ymm9, %%ymm9, %%ymm9\n\t"
        "vxorps %%ymm10, %%ymm10, %%ymm10\n\t" "vxorps %%ymm11, %%ymm11, %%ymm11\n\t"
        "vxorps %%ymm14, %%ymm14, %%ymm14\n\t" "vxorps %%ymm15, %%ymm15, %%ymm15\n\t"
        "1:\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm0\n\t" "vfmadd231ps %%ymm14, %%ymm15, %%ymm1\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm2\n\t" "vfmadd231ps %%ymm14, %%ymm15, %%ymm3\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm4\n\t" "vfmadd231ps %%ymm14, %%ymm15, %%ymm5\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm6\n\t" "vfmadd231ps %%ymm14, %%ymm15, %%ymm7\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm8\n\t" "vfmadd231ps %%ymm14, %%ymm15, %%ymm9\n\t"
        "vfmadd231ps %%ymm14, %%ymm15, %%ymm10\n\t" "vfmadd231ps %%ymm14, %%ymm15, %%ymm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n) : : YMM_CLOBBERS);
    return iterations * 12 * 8;
}

int cpeak_has_avx512f(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define ZMM_CLOBBERS "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", \
    "xmm10", "xmm11", "xmm14", "xmm15", "cc"

__attribute__((target("avx512f"))) long cpeak_fma32_avx512(long iterations) {
    long n = iterations;
    if (n <= 0) return 0;
    __asm__ volatile(
        "vxorps %%zmm0, %%zmm0, %%zmm0\n\t" "vxorps %%zmm1, %%zmm1, %%zmm1\n\t"
        "vxorps %%zmm2, %%zmm2, %%zmm2\n\t" "vxorps %%zmm3, %%zmm3, %%zmm3\n\t"
        "vxorps %%zmm4, %%zmm4, %%zmm4\n\t" "vxorps %%zmm5, %%zmm5, %%zmm5\n\t"
        "vxorps %%zmm6, %%zmm6, %%zmm6\n\t" "vxorps %%zmm7, %%zmm7, %%zmm7\n\t"
        "vxorps %%zmm8, %%zmm8, %%zmm8\n\t" "vxorps %%zmm9, %%zmm9, %%zmm9\n\t"
        "vxorps %%zmm10, %%zmm10, %%zmm10\n\t" "vxorps %%zmm11, %%zmm11, %%zmm11\n\t"
        "vxorps %%zmm14, %%zmm14, %%zmm14\n\t" "vxorps %%zmm15, %%zmm15, %%zmm15\n\t"
        "1:\n\t"
        "vfmadd231ps %%zmm14, %%zmm15, %%zmm0\n\t" "vfmadd231ps %%zmm14, %%zmm15, %%zmm1\n\t"
        "vfmadd231ps %%zmm14, %%zmm15, %%zmm2\n\t" "vfmadd231ps %%zmm14, %%zmm15, %%zmm3\n\t"
        "vfmadd231ps %%zmm14, %%zmm15, %%zmm4\n\t" "vfmadd231ps %%zmm14, %%zmm15, %%zmm5\n\t"
        "vfmadd231ps %%zmm14, %%zmm15, %%zmm6\n\t" "vfmadd231ps %%zmm14, %%zmm15, %%zmm7\n\t"
        "vfmadd231ps %%zmm14, %%zmm15, %%zmm8\n\t" "vfmadd231ps %%zmm14, %%zmm15, %%zmm9\n\t"
        "vfmadd231ps %%zmm14, %%zmm15, %%zmm10\n\t" "vfmadd231ps %%zmm14, %%zmm15, %%zmm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n) : : ZMM_CLOBBERS);
    return iterations * 12 * 16;
}

__attribute__((target("avx2"))) long cpeak_int8_avx2(long iterations) {
    long n = iterations;
    if (n <= 0) return 0;
    __asm__ volatile(
        "vpxor %%ymm0, %%ymm0, %%ymm0\n\t" "vpxor %%ymm1, %%ymm1, %%ymm1\n\t"
        "vpxor %%ymm2, %%ymm2, %%ymm2\n\t" "vpxor %%ymm3, %%ymm3, %%ymm3\n\t"
        "vpxor %%ymm4, %%ymm4, %%ymm4\n\t" "vpxor %%ymm5, %%ymm5, %%ymm5\n\t"
        "vpcmpeqb %%ymm15, %%ymm15, %%ymm15\n\t"
        "vpabsb %%ymm15, %%ymm14\n\t"
        "vpabsw %%ymm15, %%ymm13\n\t"
        "1:\n\t"
        "vpmaddubsw %%ymm15, %%ymm14, %%ymm6\n\t" "vpmaddubsw %%ymm15, %%ymm14, %%ymm7\n\t"
        "vpmaddubsw %%ymm15, %%ymm14, %%ymm8\n\t" "vpmaddubsw %%ymm15, %%ymm14, %%ymm9\n\t"
        "vpmaddubsw %%ymm15, %%ymm14, %%ymm10\n\t" "vpmaddubsw %%ymm15, %%ymm14, %%ymm11\n\t"
        "vpmaddwd %%ymm13, %%ymm6, %%ymm6\n\t" "vpmaddwd %%ymm13, %%ymm7, %%ymm7\n\t"
        "vpmaddwd %%ymm13, %%ymm8, %%ymm8\n\t" "vpmaddwd %%ymm13, %%ymm9, %%ymm9\n\t"
        "vpmaddwd %%ymm13, %%ymm10, %%ymm10\n\t" "vpmaddwd %%ymm13, %%ymm11, %%ymm11\n\t"
        "vpaddd %%ymm6, %%ymm0, %%ymm0\n\t" "vpaddd %%ymm7, %%ymm1, %%ymm1\n\t"
        "vpaddd %%ymm8, %%ymm2, %%ymm2\n\t" "vpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
        "vpaddd %%ymm10, %%ymm4, %%ymm4\n\t" "vpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n) : : YMM_CLOBBERS);
    return iterations * 6 * 32;
}

// Alike on purpose: one peak loop per instruction set; the registers and instructions differ.
__attribute__((target("avx512f,avx512vnni"))) long cpeak_int8_vnni(long iterations) {
    long n = iterations;
    if (n <= 0) return 0;
    __asm__ volatile(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\t" "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
        "vpxord %%zmm2, %%zmm2, %%zmm2\n\t" "vpxord %%zmm3, %%zmm3, %%zmm3\n\t"
        "vpxord %%zmm4, %%zmm4, %%zmm4\n\t" "vpxord %%zmm5, %%zmm5, %%zmm5\n\t"
        "vpxord %%zmm6, %%zmm6, %%zmm6\n\t" "vpxord %%zmm7, %%zmm7, %%zmm7\n\t"
        "vpxord %%zmm8, %%zmm8, %%zmm8\n\t" "vpxord %%zmm9, %%zmm9, %%zmm9\n\t"
        "vpxord %%zmm10, %%zmm10, %%zmm10\n\t" "vpxord %%zmm11, %%zmm11, %%zmm11\n\t"
        "vpternlogd $0xff, %%zmm15, %%zmm15, %%zmm15\n\t"
        "vpabsb %%zmm15, %%zmm14\n\t"
        "1:\n\t"
        "vpdpbusd %%zmm15, %%zmm14, %%zmm0\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm1\n\t"
        "vpdpbusd %%zmm15, %%zmm14, %%zmm2\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm3\n\t"
        "vpdpbusd %%zmm15, %%zmm14, %%zmm4\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm5\n\t"
        "vpdpbusd %%zmm15, %%zmm14, %%zmm6\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm7\n\t"
        "vpdpbusd %%zmm15, %%zmm14, %%zmm8\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm9\n\t"
        "vpdpbusd %%zmm15, %%zmm14, %%zmm10\n\t" "vpdpbusd %%zmm15, %%zmm14, %%zmm11\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(n) : : YMM_CLOBBERS);
    return iterations * 12 * 64;
}

// ---- The round trip of one cache line between two CPUs ----------------------------------------


struct round_trip {
    _Atomic long flag __attribute__((aligned(64)));  // alone on its cache line
    char pad[64 - sizeof(long)];
    long trips;
    int cpu;
    int pinned;
};

static int pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

// Spins until the flag holds `value`; yields the CPU now and then, so that a measurement on a
// busy machine (the other side descheduled) still ends.
static void wait_for(_Atomic long *flag, long value) {
    for (long spins = 1; atomic_load_explicit(flag, memory_order_acquire) != value; spins++)
        if (spins % 65536 == 0) sched_yield();
}

// The answering side: pins itself, says so (-1), then waits for each odd value and answers with
// the next even one.
static void *answer(void *raw) {
    struct round_trip *r = raw;
    r->pinned = pin_to(r->cpu);
    atomic_store_explicit(&r->flag, -1, memory_order_release);
    for (long i = 0; i < r->trips; i++) {
        wait_for(&r->flag, 2 * i + 1);
        atomic_store_explicit(&r->flag, 2 * i + 2, memory_order_release);
    }
    return 0;
}

double cpeak_round_trip_ns(int cpu_a, int cpu_b, long trips) {
    if (trips <= 0 || trips > (1L << 40) || cpu_a == cpu_b || cpu_a < 0 || cpu_b < 0 || cpu_a >= CPU_SETSIZE ||
        cpu_b >= CPU_SETSIZE)
        return -1;
    struct round_trip r;  // on this stack: the thread is joined before it returns
    atomic_store(&r.flag, 0);
    r.trips = trips;
    r.cpu = cpu_b;
    r.pinned = 0;
    // The caller's own affinity is restored afterwards.
    cpu_set_t saved;
    if (pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) != 0) return -1;
    if (!CPU_ISSET(cpu_a, &saved) || !CPU_ISSET(cpu_b, &saved)) return -1;
    // Both CPUs usable? Tried on this thread first (cpu_b, then cpu_a, where it stays).
    if (!pin_to(cpu_b) || !pin_to(cpu_a)) {
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
        return -1;
    }
    pthread_t thread;
    if (pthread_create(&thread, 0, answer, &r) != 0) {
        pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
        return -1;
    }
    // The clock starts once the other thread runs on its CPU, not while it is being created.
    wait_for(&r.flag, -1);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < trips; i++) {
        atomic_store_explicit(&r.flag, 2 * i + 1, memory_order_release);
        wait_for(&r.flag, 2 * i + 2);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(thread, 0);
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    if (!r.pinned) return -1;
    return ((double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec)) / (double)trips;
}

int cpeak_allowed_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    if (pthread_getaffinity_np(pthread_self(), sizeof set, &set) != 0) return -1;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (count < capacity) cpus[count] = cpu;
        count++;
    }
    return count;
}
