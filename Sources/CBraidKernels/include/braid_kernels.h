#ifndef BRAID_KERNELS_H
#define BRAID_KERNELS_H

/// Braid's hot float kernels, compiled twice: for the x86-64 baseline (SSE2) or arm64 (NEON),
/// and, on x86-64, with AVX2 and FMA. The AVX2 path is chosen at run time when the CPU has
/// it, so one binary runs on any x86-64 or arm64 Linux machine and still uses wide vectors.

/// Which path the kernels take: "avx2+fma" or "generic".
const char *braid_kernels_path(void);

/// Σ a[i]·b[i].
float braid_dot(const float *a, const float *b, long count);

/// y[i] += alpha·x[i].
void braid_axpy(float alpha, const float *x, float *y, long count);

/// y = A·x for a symmetric row-major n×n matrix A.
void braid_symmetric_matrix_vector(const float *a, const float *x, float *y, long n);

/// out[k] = rows[k]·x for the n rows of a row-major n×f block.
void braid_multiply_rows(const float *rows, long n, long f, const float *x, float *out);

/// y += Σ_k w[k]·rows[k] over the n rows of a row-major n×f block.
void braid_accumulate_rows(const float *rows, long n, long f, const float *w, float *y);

/// y[j] = Σ_d x[d]·(factor d of item j) for `count` items packed in panels of 32 items, each
/// panel f rows of 32 floats (the last padded with zeros); every item's sum runs over d in
/// order, so a score is the same whichever panels a call covers.
void braid_score_panels(const float *panels, long count, long f, const float *x, float *y);

/// The n rows of a row-major n × f block packed for braid_score_panels: row j's factor d at
/// 32·f·(j / 32) + 32·d + j mod 32; `out` holds ⌈n/32⌉·32·f floats, its padding left as it is.
void braid_pack_panels(const float *rows, long n, long f, float *out);

/// braid_score_panels' scores of `count` items read from their row-major factors (row j is f
/// floats), the same values bit for bit: each run of 64 rows is packed into `scratch` (room
/// for 64·f floats) and scored there.
void braid_score_rows(const float *rows, long count, long f, const float *x, float *y, float *scratch);

/// The first k in start..<count with s[k] >= threshold (a NaN never is), or count.
long braid_first_at_least(const float *s, long start, long count, float threshold);

/// p += lr·(e·q − λ·p) and q += lr·(e·p_old − λ·q), element by element.
void braid_sgd_step(float *p, float *q, float error, float rate, float lambda, long count);

/// In place, v[i] = e^(v[i] − max)/Σ_j e^(v[j] − max) over the n values (e^x as Cephes computes it).
void braid_softmax(float *v, long n);

/// In place, v[i] = ½·v[i]·(1 + erf(v[i]/√2)) (erf by Abramowitz & Stegun 7.1.26).
void braid_gelu(float *v, long count);

/// In place, v[i] = Φ(v[i]) = ½·(1 + erf(v[i]/√2)), with braid_gelu's erf.
void braid_normal_cdf(float *v, long count);

/// In place, v[i] = e^v[i] (Cephes' method, inputs clamped to [−87.3, 88.3]).
void braid_exp(float *v, long count);

/// Σ g[i]² in double: eight lanes summed in order, then across the lanes in a fixed tree, then
/// the last count mod 8 in order. The same value on every path.
double braid_sum_of_squares(const float *g, long count);

/// One Adam step over `count` values, each as a scalar loop writes it, in this order of
/// operations and without fused multiply-adds (the same bits on every path): g ← g·clip,
/// m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g·g, w ← w·decay − rate·m/(√(v/correction2) + ε),
/// then g ← 0. Returns Σ g² of the gradient as given, as braid_sum_of_squares sums it.
double braid_adam_step(float *w, float *g, float *m, float *v, long count, float clip, float beta1, float beta2, float rate,
                       float correction2, float epsilon, float decay);

/// Row i's LambdaRank pairs with the rows start..<count (each of a lower label than i's) of a
/// query gathered in label order, eight at a time: ρ = 1/(1 + e^{σ(s_i − s_j)}) and
/// |ΔNDCG| = |g_i − g_j|·|d_i − d_j|·w_j (gains divided by the ideal DCG, discounts
/// 1/log2(1 + rank), w_j 0 for a pair left out; weight NULL: every pair counts);
/// gradient[j] += σρ|ΔNDCG|, gradient[i] −= the sum, and both Hessians += σ²ρ(1 − ρ)|ΔNDCG|.
/// The arrays need room up to the next multiple of 8 past count, start counted from: those
/// lanes are read and left as they were, whatever they hold.
void braid_lambdarank_pairs(const float *score, const float *gain, const float *discount, const float *weight,
                            float *gradient, float *hessian, long i, long start, long count, float sigma);

/// Debian's OpenBLAS (0.3.21, built for every x86-64 CPU it knew, DYNAMIC_ARCH) reads a CPU
/// newer than it knows as "Prescott" and runs its SSE3 kernels; Braid's EASE fit measured 3.5–4×
/// slower with them than with its AVX-512 ones on such a CPU. When OpenBLAS chose Prescott, the
/// environment does not name a core (OPENBLAS_CORETYPE) and the CPU has AVX-512 (SkylakeX's
/// kernels) or AVX2 and FMA (Haswell's), this chooses those kernels, as OPENBLAS_CORETYPE would
/// at load. Returns the core OpenBLAS now uses, or NULL when nothing changed. Call it once,
/// before any BLAS call.
const char *braid_openblas_upgrade_kernels(void);

#endif
