// The kernel bodies, included once per instruction set by kernels.c with KERNEL(name) and
// KERNEL_ATTRIBUTES defined. Vectors are clang's 8-float extended vectors: one AVX register,
// or two SSE/NEON registers on the generic path.

KERNEL_ATTRIBUTES static float KERNEL(dot)(const float *a, const float *b, long count) {
    v8f acc0 = 0, acc1 = 0;
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        acc0 += load8(a + i) * load8(b + i);
        acc1 += load8(a + i + 8) * load8(b + i + 8);
    }
    if (i + 8 <= count) {
        acc0 += load8(a + i) * load8(b + i);
        i += 8;
    }
    v8f acc = acc0 + acc1;
    float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < count; i++) sum += a[i] * b[i];
    return sum;
}

KERNEL_ATTRIBUTES static void KERNEL(axpy)(float alpha, const float *x, float *y, long count) {
    v8f a = alpha;
    long i = 0;
    for (; i + 8 <= count; i += 8) store8(y + i, load8(y + i) + a * load8(x + i));
    for (; i < count; i++) y[i] += alpha * x[i];
}

// y[j] = Σ_{c < rows} x[c]·a[c·ld + j] for j < 32, each sum over c in order: 32 columns of a
// row-major matrix (leading dimension ld) times x, in four registers of sums.
KERNEL_ATTRIBUTES static inline void KERNEL(columns32)(const float *a, long ld, long rows, const float *x, float *y) {
    v8f y0 = 0, y1 = 0, y2 = 0, y3 = 0;
    for (long c = 0; c < rows; c++) {
        v8f xc = x[c];
        const float *row = a + c * ld;
        y0 += xc * load8(row);
        y1 += xc * load8(row + 8);
        y2 += xc * load8(row + 16);
        y3 += xc * load8(row + 24);
    }
    store8(y, y0);
    store8(y + 8, y1);
    store8(y + 16, y2);
    store8(y + 24, y3);
}

KERNEL_ATTRIBUTES static void KERNEL(symmetric_matrix_vector)(const float *a, const float *x, float *y, long n) {
    long start = 0;
    for (; start + 32 <= n; start += 32) KERNEL(columns32)(a + start, n, n, x, y + start);
    for (; start + 8 <= n; start += 8) {
        v8f y0 = 0;
        for (long c = 0; c < n; c++) y0 += (v8f)x[c] * load8(a + c * n + start);
        store8(y + start, y0);
    }
    for (; start < n; start++) {
        float sum = 0;
        for (long c = 0; c < n; c++) sum += x[c] * a[c * n + start];
        y[start] = sum;
    }
}

KERNEL_ATTRIBUTES static void KERNEL(multiply_rows)(const float *rows, long n, long f, const float *x, float *out) {
    long k = 0;
    if (f % 8 == 0) {
        for (; k + 4 <= n; k += 4) {
            const float *r0 = rows + k * f, *r1 = r0 + f, *r2 = r1 + f, *r3 = r2 + f;
            v8f a0 = 0, a1 = 0, a2 = 0, a3 = 0;
            for (long d = 0; d < f; d += 8) {
                v8f xv = load8(x + d);
                a0 += xv * load8(r0 + d);
                a1 += xv * load8(r1 + d);
                a2 += xv * load8(r2 + d);
                a3 += xv * load8(r3 + d);
            }
            out[k] = horizontal_sum(a0);
            out[k + 1] = horizontal_sum(a1);
            out[k + 2] = horizontal_sum(a2);
            out[k + 3] = horizontal_sum(a3);
        }
    }
    for (; k < n; k++) out[k] = KERNEL(dot)(rows + k * f, x, f);
}

KERNEL_ATTRIBUTES static void KERNEL(accumulate_rows)(const float *rows, long n, long f, const float *w, float *y) {
    long k = 0;
    if (f % 8 == 0) {
        for (; k + 4 <= n; k += 4) {
            const float *r0 = rows + k * f, *r1 = r0 + f, *r2 = r1 + f, *r3 = r2 + f;
            v8f w0 = w[k], w1 = w[k + 1], w2 = w[k + 2], w3 = w[k + 3];
            for (long d = 0; d < f; d += 8) {
                v8f v = load8(y + d);
                v += w0 * load8(r0 + d);
                v += w1 * load8(r1 + d);
                v += w2 * load8(r2 + d);
                v += w3 * load8(r3 + d);
                store8(y + d, v);
            }
        }
    }
    for (; k < n; k++) KERNEL(axpy)(w[k], rows + k * f, y, f);
}

// Scores of `count` items whose f factors are packed in panels of 32 items (panel p holds
// f rows of 32 floats: factor d of items 32p … 32p + 31), the last panel padded with zeros:
// y[j] = Σ_d x[d]·factor d of item j, summed in the order d = 0, 1, …, f − 1 for every item,
// so an item's score does not depend on which panels a call covers.
KERNEL_ATTRIBUTES static void KERNEL(score_panels)(const float *panels, long count, long f, const float *x, float *y) {
    long start = 0;
    // Two panels at a time: eight independent sums, enough to hide the multiply-add latency.
    for (; start + 64 <= count; start += 64) {
        const float *first = panels + start * f, *second = first + 32 * f;
        v8f y0 = 0, y1 = 0, y2 = 0, y3 = 0, y4 = 0, y5 = 0, y6 = 0, y7 = 0;
        for (long d = 0; d < f; d++) {
            v8f xd = x[d];
            const float *a = first + d * 32, *b = second + d * 32;
            y0 += xd * load8(a);
            y1 += xd * load8(a + 8);
            y2 += xd * load8(a + 16);
            y3 += xd * load8(a + 24);
            y4 += xd * load8(b);
            y5 += xd * load8(b + 8);
            y6 += xd * load8(b + 16);
            y7 += xd * load8(b + 24);
        }
        store8(y + start, y0);
        store8(y + start + 8, y1);
        store8(y + start + 16, y2);
        store8(y + start + 24, y3);
        store8(y + start + 32, y4);
        store8(y + start + 40, y5);
        store8(y + start + 48, y6);
        store8(y + start + 56, y7);
    }
    // A panel is f rows of 32 floats: its 32 columns times x.
    for (; start + 32 <= count; start += 32) KERNEL(columns32)(panels + start * f, 32, f, x, y + start);
    if (start < count) {
        float last[32];
        KERNEL(columns32)(panels + start * f, 32, f, x, last);
        memcpy(y + start, last, (size_t)(count - start) * sizeof(float));
    }
}

// The n rows of a row-major n × f block in the panels score_panels reads: row j's factor d
// at 32·f·(j / 32) + 32·d + j mod 32. `out` holds ⌈n/32⌉·32·f floats; the padding rows of the
// last panel are left as they are.
KERNEL_ATTRIBUTES static void KERNEL(pack_panels)(const float *rows, long n, long f, float *out) {
    for (long j = 0; j < n; j++) {
        const float *row = rows + j * f;
        float *to = out + (j >> 5) * 32 * f + (j & 31);
        for (long d = 0; d < f; d++) to[d * 32] = row[d];
    }
}

// score_panels' scores of `count` items read from their row-major factors (row j: f floats),
// without packing them all first: each run of 64 rows is packed into `scratch` (64·f floats,
// the rows past `count` zero) and scored there, so every score is the value score_panels
// gives from the whole catalogue's panels, bit for bit.
KERNEL_ATTRIBUTES static void KERNEL(score_rows)(const float *rows, long count, long f, const float *x, float *y, float *scratch) {
    for (long start = 0; start < count; start += 64) {
        long n = count - start < 64 ? count - start : 64;
        if (n < 64) memset(scratch, 0, (size_t)(64 * f) * sizeof(float));
        KERNEL(pack_panels)(rows + start * f, n, f, scratch);
        KERNEL(score_panels)(scratch, n, f, x, y + start);
    }
}

// The first k in start..<count with s[k] >= threshold (never a NaN), or count: eight scores
// per comparison, so a top-k scan skips the groups below its lowest kept score at once.
KERNEL_ATTRIBUTES static long KERNEL(first_at_least)(const float *s, long start, long count, float threshold) {
    v8f t = threshold;
    long k = start;
    for (; k + 8 <= count; k += 8) {
        v8i at_least = load8(s + k) >= t;
        if (__builtin_reduce_or(at_least) != 0) break;
    }
    for (; k < count; k++) if (s[k] >= threshold) return k;
    return count;
}

KERNEL_ATTRIBUTES static void KERNEL(sgd_step)(float *p, float *q, float error, float rate, float lambda, long count) {
    v8f e = error, lr = rate, l = lambda;
    long d = 0;
    for (; d + 8 <= count; d += 8) {
        v8f pv = load8(p + d), qv = load8(q + d);
        store8(p + d, pv + lr * (e * qv - l * pv));
        store8(q + d, qv + lr * (e * pv - l * qv));
    }
    for (; d < count; d++) {
        float pd = p[d], qd = q[d];
        p[d] = pd + rate * (error * qd - lambda * pd);
        q[d] = qd + rate * (error * pd - lambda * qd);
    }
}

// e^x in eight lanes (Cephes' single-precision method, as VectorKernels.exp): x = n·ln2 + r,
// a degree-5 polynomial for e^r, then n into the exponent bits; inputs clamped to ±87. A
// macro, so that no v8f crosses a call (whose ABI differs without AVX).
#ifndef BRAID_EXP8
#define BRAID_EXP8(input) ({ \
    v8f x_ = __builtin_elementwise_min(__builtin_elementwise_max((input), (v8f)-87.3f), (v8f)88.3f); \
    v8f shifted_ = x_ * 1.44269504088896341f + 12582912.0f; \
    v8f n_ = shifted_ - 12582912.0f; \
    v8f r_ = x_ - n_ * 0.693359375f; \
    r_ = r_ - n_ * -2.12194440e-4f; \
    v8f p_ = 1.9875691500e-4f; \
    p_ = p_ * r_ + 1.3981999507e-3f; \
    p_ = p_ * r_ + 8.3334519073e-3f; \
    p_ = p_ * r_ + 4.1665795894e-2f; \
    p_ = p_ * r_ + 1.6666665459e-1f; \
    p_ = p_ * r_ + 5.0000001201e-1f; \
    v8i bits_ = (((v8i)shifted_ - 0x4B400000) + 127) << 23; \
    (p_ * (r_ * r_) + r_ + 1.0f) * (v8f)bits_; })
#endif

// Row i's LambdaRank pairs with rows start..<count of a query gathered in label order (every
// row from start on has a lower label than i's): for each, ρ = 1/(1 + e^{σ(s_i − s_j)}) and
// |ΔNDCG| = |g_i − g_j|·|d_i − d_j|·w_j (gains already divided by the ideal DCG, d the
// discounts, w 0 for a pair the truncation drops; no weights: every pair counts). Adds σρ|ΔNDCG|
// to j's gradient and takes the sum from i's, and adds σ²ρ(1 − ρ)|ΔNDCG| to both Hessians. The
// last block's lanes past count are read and written back unchanged, so the arrays must have
// room for them; their values do not matter (masked, not multiplied, so a NaN there stays out).
KERNEL_ATTRIBUTES static void KERNEL(lambdarank_pairs)(const float *score, const float *gain, const float *discount, const float *weight,
                                                       float *gradient, float *hessian, long i, long start, long count, float sigma) {
    v8f si = score[i], gi = gain[i], di = discount[i], s = sigma;
    v8f gradient_i = 0, hessian_i = 0;
    const v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    for (long j = start; j < count; j += 8) {
        v8i inside = (lane + (int)(j - start)) < (int)(count - start);
        v8f delta = __builtin_elementwise_abs((gi - load8(gain + j)) * (di - load8(discount + j)));
        if (weight) delta *= load8(weight + j);
        v8f rho = 1.0f / (1.0f + BRAID_EXP8(s * (si - load8(score + j))));
        v8f lambda = (v8f)((v8i)(s * rho * delta) & inside), curvature = (v8f)((v8i)(s * s * rho * (1.0f - rho) * delta) & inside);
        gradient_i += lambda;
        hessian_i += curvature;
        store8(gradient + j, load8(gradient + j) + lambda);
        store8(hessian + j, load8(hessian + j) + curvature);
    }
    gradient[i] -= horizontal_sum(gradient_i);
    hessian[i] += horizontal_sum(hessian_i);
}

// erf in eight lanes (Abramowitz & Stegun 7.1.26, as VectorKernels.erf; |error| < 1.5·10⁻⁷):
// 1 − (a₁t + … + a₅t⁵)·e^(−x²) with t = 1/(1 + p|x|), the sign of x put back.
#ifndef BRAID_ERF8
#define BRAID_ERF8(input) ({ \
    v8f z_ = (input); \
    v8f a_ = __builtin_elementwise_abs(z_); \
    v8f t_ = 1.0f / (1.0f + 0.3275911f * a_); \
    v8f q_ = 1.061405429f; \
    q_ = q_ * t_ - 1.453152027f; \
    q_ = q_ * t_ + 1.421413741f; \
    q_ = q_ * t_ - 0.284496736f; \
    q_ = q_ * t_ + 0.254829592f; \
    q_ = q_ * t_; \
    v8f y_ = 1.0f - q_ * BRAID_EXP8(-a_ * a_); \
    v8i sign_ = (int)0x80000000u; \
    (v8f)((v8i)y_ ^ ((z_ < 0.0f) & sign_)); })
#endif

// In place, v[i] = e^(v[i] − max)/Σ over n values: the maximum and the sum over eight lanes,
// the last n mod 8 values in lanes of their own (the rest of those lanes far below the maximum).
KERNEL_ATTRIBUTES static void KERNEL(softmax)(float *v, long n) {
    if (n <= 0) return;
    v8f lanes = -__builtin_inff();
    long i = 0;
    for (; i + 8 <= n; i += 8) lanes = __builtin_elementwise_max(lanes, load8(v + i));
    float maximum = lanes[0];
    for (int l = 1; l < 8; l++) maximum = lanes[l] > maximum ? lanes[l] : maximum;
    for (long j = i; j < n; j++) maximum = v[j] > maximum ? v[j] : maximum;
    v8f shift = maximum, sums = 0;
    for (i = 0; i + 8 <= n; i += 8) {
        v8f e = BRAID_EXP8(load8(v + i) - shift);
        store8(v + i, e);
        sums += e;
    }
    float tail[8] = {-100, -100, -100, -100, -100, -100, -100, -100};
    for (long j = i; j < n; j++) tail[j - i] = v[j] - maximum;
    v8f e = BRAID_EXP8(load8(tail));
    float sum = horizontal_sum(sums);
    for (long j = i; j < n; j++) { v[j] = e[j - i]; sum += e[j - i]; }
    v8f inverse = 1.0f / sum;
    for (i = 0; i + 8 <= n; i += 8) store8(v + i, load8(v + i) * inverse);
    for (; i < n; i++) v[i] *= inverse[0];
}

// In place, v[i] = f(v[i]) for an elementwise f of eight lanes (a macro of one argument), the
// last count mod 8 values in a block of their own, padded with zeros.
#define BRAID_ELEMENTWISE(v, count, f) do { \
    long i_ = 0; \
    for (; i_ + 8 <= (count); i_ += 8) store8((v) + i_, f(load8((v) + i_))); \
    if (i_ < (count)) { \
        float tail_[8] = {0, 0, 0, 0, 0, 0, 0, 0}; \
        for (long j_ = i_; j_ < (count); j_++) tail_[j_ - i_] = (v)[j_]; \
        v8f y_ = f(load8(tail_)); \
        for (long j_ = i_; j_ < (count); j_++) (v)[j_] = y_[j_ - i_]; \
    } \
} while (0)

// Φ(x) = ½·(1 + erf(x/√2)), the standard normal CDF with the erf above; GELU is x·Φ(x).
#define BRAID_PHI8(x) (0.5f * (1.0f + BRAID_ERF8((x) * 0.70710678118654752f)))
#define BRAID_GELU8(x) ({ v8f g_ = (x); g_ * BRAID_PHI8(g_); })

KERNEL_ATTRIBUTES static void KERNEL(gelu)(float *v, long count) { BRAID_ELEMENTWISE(v, count, BRAID_GELU8); }
KERNEL_ATTRIBUTES static void KERNEL(normal_cdf)(float *v, long count) { BRAID_ELEMENTWISE(v, count, BRAID_PHI8); }
KERNEL_ATTRIBUTES static void KERNEL(exp)(float *v, long count) { BRAID_ELEMENTWISE(v, count, BRAID_EXP8); }

// Σ g[i]² in double: eight lanes of squares summed in order, then the lanes in a fixed tree,
// then the last count mod 8 in order; the same on both paths (no contraction into FMA).
#ifndef BRAID_SQUARES8
typedef double v8d __attribute__((ext_vector_type(8)));
#define BRAID_SQUARES8(g) ({ v8d d_ = __builtin_convertvector((g), v8d); d_ * d_; })
#define BRAID_LANES_SUM(s) ((((s)[0] + (s)[1]) + ((s)[2] + (s)[3])) + (((s)[4] + (s)[5]) + ((s)[6] + (s)[7])))
#endif

KERNEL_ATTRIBUTES static double KERNEL(sum_of_squares)(const float *g, long count) {
#pragma clang fp contract(off)
    v8d lanes = 0;
    long i = 0;
    for (; i + 8 <= count; i += 8) lanes += BRAID_SQUARES8(load8(g + i));
    double sum = BRAID_LANES_SUM(lanes);
    for (; i < count; i++) sum += (double)g[i] * (double)g[i];
    return sum;
}

// One Adam step, each value as the scalar update writes it and in its order of operations (no
// FMA: the same bits on both paths): g·clip, m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g·g,
// w = w·decay − rate·m/(√(v/c2) + ε), g = 0. Returns Σ g² of the gradient as given, summed as
// braid_sum_of_squares sums it.
KERNEL_ATTRIBUTES static double KERNEL(adam_step)(float *w, float *g, float *m, float *v, long count, float clip, float beta1,
                                                  float beta2, float rate, float correction2, float epsilon, float decay) {
#pragma clang fp contract(off)
    v8d lanes = 0;
    v8f b1 = beta1, b2 = beta2, c1 = 1.0f - beta1, c2 = 1.0f - beta2;
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        v8f raw = load8(g + i);
        lanes += BRAID_SQUARES8(raw);
        v8f gi = raw * clip;
        v8f mi = b1 * load8(m + i) + c1 * gi;
        v8f vi = b2 * load8(v + i) + c2 * gi * gi;
        store8(m + i, mi);
        store8(v + i, vi);
        store8(w + i, load8(w + i) * decay - rate * mi / (__builtin_elementwise_sqrt(vi / correction2) + epsilon));
        store8(g + i, (v8f)0);
    }
    double sum = BRAID_LANES_SUM(lanes);
    for (; i < count; i++) {
        float raw = g[i];
        sum += (double)raw * (double)raw;
        float gi = raw * clip;
        m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
        v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        w[i] = w[i] * decay - rate * m[i] / (__builtin_sqrtf(v[i] / correction2) + epsilon);
        g[i] = 0;
    }
    return sum;
}
