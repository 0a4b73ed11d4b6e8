#define _GNU_SOURCE
#include "braid_kernels.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef float v8f __attribute__((ext_vector_type(8)));
typedef int v8i __attribute__((ext_vector_type(8)));

// Unaligned loads and stores; memcpy of a constant size compiles to one vector move.
#define load8(pointer) ({ v8f value_; memcpy(&value_, (pointer), sizeof value_); value_; })
#define store8(pointer, value) do { v8f stored_ = (value); memcpy((pointer), &stored_, sizeof stored_); } while (0)
#define horizontal_sum(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]) + (((v)[4] + (v)[5]) + ((v)[6] + (v)[7])))

// The portable path: the baseline instruction set of the target (SSE2 on x86-64, NEON on arm64).
#define KERNEL(name) name##_generic
#define KERNEL_ATTRIBUTES
#include "kernel_bodies.h"
#undef KERNEL
#undef KERNEL_ATTRIBUTES

#if defined(__x86_64__) || defined(__i386__)
// The same code for CPUs with AVX2 and FMA (Haswell and later, Zen): 256-bit vectors and
// fused multiply-adds (clang contracts a*b + c within an expression by default).
#define KERNEL(name) name##_avx2
#define KERNEL_ATTRIBUTES __attribute__((target("avx2,fma")))
#include "kernel_bodies.h"
#undef KERNEL
#undef KERNEL_ATTRIBUTES

static int braid_has_avx2 = 0;

__attribute__((constructor)) static void braid_detect_cpu(void) {
    __builtin_cpu_init();
    braid_has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define DISPATCH(name, ...) (braid_has_avx2 ? name##_avx2(__VA_ARGS__) : name##_generic(__VA_ARGS__))
const char *braid_kernels_path(void) { return braid_has_avx2 ? "avx2+fma" : "generic"; }
#else
#define DISPATCH(name, ...) name##_generic(__VA_ARGS__)
const char *braid_kernels_path(void) { return "generic"; }
#endif

float braid_dot(const float *a, const float *b, long count) { return DISPATCH(dot, a, b, count); }
void braid_axpy(float alpha, const float *x, float *y, long count) { DISPATCH(axpy, alpha, x, y, count); }
void braid_symmetric_matrix_vector(const float *a, const float *x, float *y, long n) { DISPATCH(symmetric_matrix_vector, a, x, y, n); }
void braid_multiply_rows(const float *rows, long n, long f, const float *x, float *out) { DISPATCH(multiply_rows, rows, n, f, x, out); }
void braid_accumulate_rows(const float *rows, long n, long f, const float *w, float *y) { DISPATCH(accumulate_rows, rows, n, f, w, y); }
void braid_score_panels(const float *panels, long count, long f, const float *x, float *y) { DISPATCH(score_panels, panels, count, f, x, y); }
void braid_pack_panels(const float *rows, long n, long f, float *out) { DISPATCH(pack_panels, rows, n, f, out); }
void braid_score_rows(const float *rows, long count, long f, const float *x, float *y, float *scratch) { DISPATCH(score_rows, rows, count, f, x, y, scratch); }
long braid_first_at_least(const float *s, long start, long count, float threshold) { return DISPATCH(first_at_least, s, start, count, threshold); }
void braid_sgd_step(float *p, float *q, float error, float rate, float lambda, long count) { DISPATCH(sgd_step, p, q, error, rate, lambda, count); }
void braid_softmax(float *v, long n) { DISPATCH(softmax, v, n); }
void braid_gelu(float *v, long count) { DISPATCH(gelu, v, count); }
void braid_normal_cdf(float *v, long count) { DISPATCH(normal_cdf, v, count); }
void braid_exp(float *v, long count) { DISPATCH(exp, v, count); }
double braid_sum_of_squares(const float *g, long count) { return DISPATCH(sum_of_squares, g, count); }
double braid_adam_step(float *w, float *g, float *m, float *v, long count, float clip, float beta1, float beta2, float rate,
                       float correction2, float epsilon, float decay) {
    return DISPATCH(adam_step, w, g, m, v, count, clip, beta1, beta2, rate, correction2, epsilon, decay);
}
void braid_lambdarank_pairs(const float *score, const float *gain, const float *discount, const float *weight,
                            float *gradient, float *hessian, long i, long start, long count, float sigma) {
    DISPATCH(lambdarank_pairs, score, gain, discount, weight, gradient, hessian, i, start, count, sigma);
}

const char *braid_openblas_upgrade_kernels(void) {
#if defined(__x86_64__)
    if (getenv("OPENBLAS_CORETYPE") != NULL) return NULL;  // the user's choice stands
    // Looked up, not linked: only OpenBLAS built with DYNAMIC_ARCH (Debian's) has them.
    char *(*corename)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (corename == NULL || quit == NULL || init == NULL) return NULL;
    const char *current = corename();
    if (current == NULL || strcasecmp(current, "Prescott") != 0) return NULL;
    // The CPU was read when the library loaded (braid_detect_cpu); AVX-512 is asked here.
    const char *wanted = NULL;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd")) {
        wanted = "SkylakeX";
    } else if (braid_has_avx2) {
        wanted = "Haswell";
    }
    if (wanted == NULL) return NULL;
    // What OPENBLAS_CORETYPE does when OpenBLAS loads, done again now: the kernel table is
    // chosen anew by that name, then the variable is taken back out of the environment.
    setenv("OPENBLAS_CORETYPE", wanted, 1);
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
    current = corename();
    return current != NULL && strcasecmp(current, "Prescott") != 0 ? current : NULL;
#else
    return NULL;
#endif
}
