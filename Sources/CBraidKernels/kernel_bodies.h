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

KERNEL_ATTRIBUTES static void KERNEL(symmetric_matrix_vector)(const float *a, const float *x, float *y, long n) {
    long start = 0;
    for (; start + 32 <= n; start += 32) {
        v8f y0 = 0, y1 = 0, y2 = 0, y3 = 0;
        for (long c = 0; c < n; c++) {
            v8f xc = x[c];
            const float *row = a + c * n + start;
            y0 += xc * load8(row);
            y1 += xc * load8(row + 8);
            y2 += xc * load8(row + 16);
            y3 += xc * load8(row + 24);
        }
        store8(y + start, y0);
        store8(y + start + 8, y1);
        store8(y + start + 16, y2);
        store8(y + start + 24, y3);
    }
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
