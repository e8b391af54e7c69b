// Element-wise kernels of the noisyprop CUDA backend, compiled at start-up by NVRTC.
//
// Contract: docs/engine-semantics.md. The RNG block below is a line-by-line port of
// crates/engine/src/rng.rs (mix64, Key::child, Key::bits, box_muller) and must stay
// valid C: the engine's tests compile it with the host C compiler and compare it
// with the Rust functions. No header is included (NVRTC provides the math builtins),
// so the module compiles without the CUDA include directory.
//
// Layouts (row-major): a G-network activation buffer is [G][B_max][n] with network
// stride `gs` = B_max*n elements; only the first `rows` rows of each block are used.
// bf16 values are stored as their 16-bit patterns (unsigned short).

#ifndef NP_DEVICE
#define NP_DEVICE __device__ __forceinline__
#endif

// BEGIN RNG
#define NP_GOLDEN_GAMMA 0x9E3779B97F4A7C15ULL
#define NP_MIX_M1 0xBF58476D1CE4E5B9ULL
#define NP_MIX_M2 0x94D049BB133111EBULL
#define NP_TAU_F32 6.2831855f
#define NP_INV_2POW32_F32 (1.0f / 4294967296.0f)

NP_DEVICE unsigned long long np_mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * NP_MIX_M1;
    z = (z ^ (z >> 27)) * NP_MIX_M2;
    return z ^ (z >> 31);
}

NP_DEVICE unsigned long long np_child(unsigned long long key, unsigned long long id) {
    return np_mix64(key ^ np_mix64(id + NP_GOLDEN_GAMMA));
}

NP_DEVICE unsigned long long np_bits(unsigned long long key, unsigned long long i) {
    return np_mix64(key + (i + 1ULL) * NP_GOLDEN_GAMMA);
}

// ln x for positive normal x: exponent split and the atanh series (rng::ln_f32).
NP_DEVICE float np_ln(float x) {
    unsigned int bits = __float_as_uint(x);
    int e = (int)((bits >> 23) & 0xffu) - 127;
    float m = __uint_as_float((bits & 0x007fffffu) | 0x3f800000u);
    if (m > 0x1.6a09e6p+0f) {
        m *= 0.5f;
        e += 1;
    }
    float t = (m - 1.0f) / (m + 1.0f);
    float t2 = t * t;
    float p = t2 * (1.0f / 3.0f + t2 * (1.0f / 5.0f + t2 * (1.0f / 7.0f + t2 * (1.0f / 9.0f))));
    float ef = (float)e;
    return ef * 0.69314575f + (2.0f * (t + t * p) + ef * 1.4286068e-6f);
}

// (sin 2πu, cos 2πu): quadrant reduction and Taylor polynomials (rng::sincos_turns).
NP_DEVICE void np_sincos_turns(float u, float* s, float* c) {
    float y = u * 4.0f;
    int q = (int)y;
    float x = (y - (float)q) * 0x1.921fb6p+0f;
    float x2 = x * x;
    float sn = x * (1.0f + x2 * (-1.0f / 6.0f + x2 * (1.0f / 120.0f + x2 * (-1.0f / 5040.0f
               + x2 * (1.0f / 362880.0f + x2 * (-1.0f / 39916800.0f))))));
    float cs = 1.0f + x2 * (-0.5f + x2 * (1.0f / 24.0f + x2 * (-1.0f / 720.0f + x2 * (1.0f / 40320.0f
               + x2 * (-1.0f / 3628800.0f + x2 * (1.0f / 479001600.0f))))));
    switch (q & 3) {
        case 0: *s = sn; *c = cs; break;
        case 1: *s = cs; *c = -sn; break;
        case 2: *s = -sn; *c = -cs; break;
        default: *s = -cs; *c = sn; break;
    }
}

NP_DEVICE void np_box_muller(unsigned long long bits, float* z0, float* z1) {
    float u1 = ((float)(bits >> 32) + 1.0f) * NP_INV_2POW32_F32;
    float u2 = (float)(bits & 0xFFFFFFFFULL) * NP_INV_2POW32_F32;
    float r = sqrtf(-2.0f * np_ln(u1));
    float s, c;
    np_sincos_turns(u2, &s, &c);
    *z0 = r * c;
    *z1 = r * s;
}
// END RNG

// Noise stage kinds (per network, up to NP_MAX_STAGES stages, 0 ends the stack).
#define NP_NOISE_NONE 0u
#define NP_NOISE_DROPOUT 1u
#define NP_NOISE_GAUSS_MULT 2u
#define NP_NOISE_GAUSS_ADD 3u

// Activations.
#define NP_ACT_LINEAR 0
#define NP_ACT_RELU 1
#define NP_ACT_LEAKY_RELU 2
#define NP_ACT_ABS 3
#define NP_ACT_TANH 4

NP_DEVICE unsigned short np_f32_to_bf16(float f) {
    unsigned int u = __float_as_uint(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
        return (unsigned short)((u >> 16) | 0x0040u); // quiet NaN
    }
    u += 0x7FFFu + ((u >> 16) & 1u); // round to nearest even
    return (unsigned short)(u >> 16);
}

// phi(x), and phi'(x) in *d (act.rs::eval).
NP_DEVICE float np_act(int act, float slope, float x, float* d) {
    switch (act) {
    case NP_ACT_RELU:
        if (x > 0.0f) { *d = 1.0f; return x; }
        *d = 0.0f;
        return 0.0f;
    case NP_ACT_LEAKY_RELU:
        if (x >= 0.0f) { *d = 1.0f; return x; }
        *d = slope;
        return slope * x;
    case NP_ACT_ABS:
        if (x >= 0.0f) { *d = 1.0f; return x; }
        *d = -1.0f;
        return -x;
    case NP_ACT_TANH: {
        float t = tanhf(x);
        *d = 1.0f - t * t;
        return t;
    }
    default:
        *d = 1.0f;
        return x;
    }
}

// Applies network g's noise stack to value v at counter c (noise.rs::NoiseSampler::apply);
// *f is multiplied by the multiplicative draws. `kind`, `thr`, `par` point at the network's
// stages, `keys` at the stage keys of (network, layer, step).
NP_DEVICE float np_noise(float v, float* f, unsigned long long c, int max_stages,
                         const unsigned int* kind, const unsigned long long* thr,
                         const float* par, const unsigned long long* keys) {
    for (int s = 0; s < max_stages; ++s) {
        unsigned int k = kind[s];
        if (k == NP_NOISE_NONE) {
            break;
        }
        unsigned long long key = keys[s];
        if (k == NP_NOISE_DROPOUT) {
            unsigned long long b = np_bits(key, c) >> 32;
            float e = b < thr[s] ? par[s] : 0.0f;
            v *= e;
            *f *= e;
        } else {
            float z0, z1;
            np_box_muller(np_bits(key, c >> 1), &z0, &z1);
            float z = (c & 1ULL) ? z1 : z0;
            float e = par[s] * z;
            if (k == NP_NOISE_GAUSS_MULT) {
                e = 1.0f + e;
                v *= e;
                *f *= e;
            } else {
                v += e;
            }
        }
    }
    return v;
}

NP_DEVICE void np_store(void* out, int bf16, long long i, float v) {
    if (bf16) {
        ((unsigned short*)out)[i] = np_f32_to_bf16(v);
    } else {
        ((float*)out)[i] = v;
    }
}

// Optimisers (crates/engine/src/optim.rs, same order of operations; constants rounded
// to f32 on the host): plain SGD w -= lr*g; momentum v = mu*v + g, w -= lr*v; Adam
// m = b1*m + c1*g, v = b2*v + c2*(g*g), w -= (lr*(m/bc[0])) / (sqrt(v/bc[1]) + eps)
// with bc = (1 - b1^t, 1 - b2^t) from np_adam_step. `m` holds the momentum velocity.
#define NP_OPT_SGD 0
#define NP_OPT_MOMENTUM 1
#define NP_OPT_ADAM 2

NP_DEVICE float np_opt_apply(float w, float g, float* m, float* v, int opt, float lr, float b1,
                             float b2, float c1, float c2, float eps, const float* bc) {
    if (opt == NP_OPT_ADAM) {
        float mm = b1 * *m + c1 * g;
        float vv = b2 * *v + c2 * (g * g);
        *m = mm;
        *v = vv;
        float mhat = mm / bc[0];
        float vhat = vv / bc[1];
        return w - (lr * mhat) / (sqrtf(vhat) + eps);
    }
    if (opt == NP_OPT_MOMENTUM) {
        float vel = b1 * *m + g;
        *m = vel;
        return w - lr * vel;
    }
    return w - lr * g;
}

// a^n by binary powering, as optim::powi (the CPU's Adam bias correction).
NP_DEVICE double np_powi(double a, unsigned long long n) {
    double r = 1.0;
    for (;;) {
        if (n & 1ULL) {
            r *= a;
        }
        n >>= 1;
        if (n == 0ULL) {
            break;
        }
        a *= a;
    }
    return r;
}

// Adam's update count t += 1 and its bias corrections bc = (1 - b1^t, 1 - b2^t), in
// double and rounded once. One thread.
extern "C" __global__ void np_adam_step(unsigned long long* t, float* bc, double b1, double b2) {
    if (threadIdx.x == 0 && blockIdx.x == 0) {
        unsigned long long n = *t + 1ULL;
        *t = n;
        bc[0] = (float)(1.0 - np_powi(b1, n));
        bc[1] = (float)(1.0 - np_powi(b2, n));
    }
}

// keys[(g*L + l)*S + s] = Key(root[g]).child(step).child(l).child(s), with root[g] =
// Key::new(seed_g).child(NOISE). One block.
extern "C" __global__ void np_step_keys(const unsigned long long* root, unsigned long long* keys,
                                        const unsigned long long* step, int g_count, int layers,
                                        int max_stages) {
    unsigned long long t = *step;
    int total = g_count * layers * max_stages;
    for (int i = threadIdx.x; i < total; i += blockDim.x) {
        int s = i % max_stages;
        int l = (i / max_stages) % layers;
        int g = i / (max_stages * layers);
        keys[i] = np_child(np_child(np_child(root[g], t), (unsigned long long)l),
                           (unsigned long long)s);
    }
}

extern "C" __global__ void np_advance_step(unsigned long long* step) {
    if (threadIdx.x == 0 && blockIdx.x == 0) {
        *step += 1ULL;
    }
}

// Layer-0 input: xt[g] = noise_g(phi(x)) for the shared raw input x (rows x n).
// grid (blocks, G).
extern "C" __global__ void np_input(const float* x, void* xt, int rows, int n, long long gs,
                                    int act, float slope, int apply_act, int noise_on,
                                    int max_stages, int layers, const unsigned int* kind,
                                    const unsigned long long* thr, const float* par,
                                    const unsigned long long* keys, int bf16) {
    int g = blockIdx.y;
    long long total = (long long)rows * n;
    const unsigned int* kg = kind + g * max_stages;
    const unsigned long long* tg = thr + g * max_stages;
    const float* pg = par + g * max_stages;
    const unsigned long long* keyg = keys + ((long long)g * layers + 0) * max_stages;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        float v = x[e];
        if (apply_act) {
            float d;
            v = np_act(act, slope, v, &d);
        }
        if (noise_on) {
            float f = 1.0f;
            v = np_noise(v, &f, (unsigned long long)e, max_stages, kg, tg, pg, keyg);
        }
        np_store(xt, bf16, g * gs + e, v);
    }
}

// Hidden layer l (1..=depth): a = z + b, x = phi(a), xt = noise(x); fac = phi'(a)*eps.
// grid (blocks, G). fac may be null (evaluation).
extern "C" __global__ void np_hidden(const float* z, const float* bias, void* xt, float* fac,
                                     int rows, int n, long long gs, int act, float slope,
                                     int noise_on, int max_stages, int layers, int layer,
                                     const unsigned int* kind, const unsigned long long* thr,
                                     const float* par, const unsigned long long* keys, int bf16) {
    int g = blockIdx.y;
    long long total = (long long)rows * n;
    const float* bg = bias + (long long)g * n;
    const unsigned int* kg = kind + g * max_stages;
    const unsigned long long* tg = thr + g * max_stages;
    const float* pg = par + g * max_stages;
    const unsigned long long* keyg = keys + ((long long)g * layers + layer) * max_stages;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        int j = (int)(e % n);
        float a = z[g * gs + e] + bg[j];
        float d;
        float v = np_act(act, slope, a, &d);
        float f = 1.0f;
        if (noise_on) {
            v = np_noise(v, &f, (unsigned long long)e, max_stages, kg, tg, pg, keyg);
        }
        np_store(xt, bf16, g * gs + e, v);
        if (fac) {
            fac[g * gs + e] = d * f;
        }
    }
}

// Output layer with MSE: out = z + b, diff = out - y (y shared by all networks, rows x n);
// delta = scale*diff (scale = 2/(rows*n)); partial[g*gridDim.x + block] = sum diff^2.
// grid (blocks, G), block 256 (power of two). delta / delta_h may be null.
extern "C" __global__ void np_mse(const float* z, const float* bias, const float* y, float* delta,
                                  unsigned short* delta_h, float* partial, int rows, int n,
                                  long long gs, float scale) {
    __shared__ float acc[256];
    int g = blockIdx.y;
    long long total = (long long)rows * n;
    const float* bg = bias + (long long)g * n;
    float sum = 0.0f;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        int j = (int)(e % n);
        float out = z[g * gs + e] + bg[j];
        float diff = out - y[e];
        sum += diff * diff;
        if (delta) {
            float dl = scale * diff;
            delta[g * gs + e] = dl;
            if (delta_h) {
                delta_h[g * gs + e] = np_f32_to_bf16(dl);
            }
        }
    }
    acc[threadIdx.x] = sum;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w) {
            acc[threadIdx.x] += acc[threadIdx.x + w];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        partial[g * gridDim.x + blockIdx.x] = acc[0];
    }
}

// Per network: loss = inv_count * sum of its partials. mode 0 (training):
// hist[(step % cap)*G + g] = loss; mode 1 (evaluation): eval_acc[g] += loss. grid G, block 1.
extern "C" __global__ void np_loss(const float* partial, int blocks, const unsigned long long* step,
                                   float* hist, int cap, double* eval_acc, double inv_count,
                                   int mode) {
    int g = blockIdx.x;
    if (threadIdx.x != 0) {
        return;
    }
    double s = 0.0;
    for (int i = 0; i < blocks; ++i) {
        s += (double)partial[g * blocks + i];
    }
    double loss = s * inv_count;
    if (mode == 0) {
        unsigned long long slot = *step % (unsigned long long)cap;
        hist[slot * gridDim.x + g] = (float)loss;
    } else {
        eval_acc[g] += loss;
    }
}

// Output layer with softmax cross-entropy against one-hot targets y (rows x n, shared by
// the networks): out = z + b; per row, in double, lse = max + log(sum exp(out - max)),
// label = first argmax of y, loss += lse - out[label], a hit when the first argmax of out
// is the label; delta = (exp(out - lse) - onehot) * inv_b rounded once (as loss.rs).
// mode 0 (training): hist[slot*G + g] = mean loss, hist_acc[slot*G + g] = hit rate;
// mode 1 (evaluation): eval_acc[g] += mean loss, eval_acc[G + g] += hit rate.
// grid G, block 128 (the reduction assumes 128 threads). delta / delta_h may be null.
extern "C" __global__ void np_xent(const float* z, const float* bias, const float* y, float* delta,
                                   unsigned short* delta_h, int rows, int n, long long gs,
                                   double inv_b, const unsigned long long* step, float* hist,
                                   float* hist_acc, int cap, double* eval_acc, int mode) {
    __shared__ double acc_l[128];
    __shared__ double acc_h[128];
    int g = blockIdx.x;
    const float* bg = bias + (long long)g * n;
    double loss = 0.0, hits = 0.0;
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
        const float* zr = z + g * gs + (long long)r * n;
        const float* yr = y + (long long)r * n;
        int label = 0, arg = 0;
        float ybest = yr[0];
        float obest = zr[0] + bg[0];
        for (int j = 1; j < n; ++j) {
            float o = zr[j] + bg[j];
            if (o > obest) {
                obest = o;
                arg = j;
            }
            if (yr[j] > ybest) {
                ybest = yr[j];
                label = j;
            }
        }
        double mx = (double)obest;
        double s = 0.0;
        for (int j = 0; j < n; ++j) {
            s += exp((double)(zr[j] + bg[j]) - mx);
        }
        double lse = mx + log(s);
        loss += lse - (double)(zr[label] + bg[label]);
        hits += (arg == label) ? 1.0 : 0.0;
        if (delta) {
            for (int j = 0; j < n; ++j) {
                double pj = exp((double)(zr[j] + bg[j]) - lse);
                float d = (float)((pj - (j == label ? 1.0 : 0.0)) * inv_b);
                long long i = g * gs + (long long)r * n + j;
                delta[i] = d;
                if (delta_h) {
                    delta_h[i] = np_f32_to_bf16(d);
                }
            }
        }
    }
    acc_l[threadIdx.x] = loss;
    acc_h[threadIdx.x] = hits;
    __syncthreads();
    for (int w = 64; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w) {
            acc_l[threadIdx.x] += acc_l[threadIdx.x + w];
            acc_h[threadIdx.x] += acc_h[threadIdx.x + w];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        double l = acc_l[0] * inv_b;
        double a = acc_h[0] * inv_b;
        if (mode == 0) {
            unsigned long long slot = *step % (unsigned long long)cap;
            hist[slot * gridDim.x + g] = (float)l;
            hist_acc[slot * gridDim.x + g] = (float)a;
        } else {
            eval_acc[g] += l;
            eval_acc[gridDim.x + g] += a;
        }
    }
}

// delta = g_in * fac (the backward factor phi'(a)*eps of the layer), plus a bf16 copy.
// grid (blocks, G).
extern "C" __global__ void np_backward(const float* g_in, const float* fac, float* delta,
                                       unsigned short* delta_h, int rows, int n, long long gs) {
    int g = blockIdx.y;
    long long total = (long long)rows * n;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)gridDim.x * blockDim.x) {
        long long i = g * gs + e;
        float dl = g_in[i] * fac[i];
        delta[i] = dl;
        if (delta_h) {
            delta_h[i] = np_f32_to_bf16(dl);
        }
    }
}

// Bias gradient (column sums of delta over the batch) and the optimiser's update (see
// np_opt_apply; m / v null unless the optimiser keeps them). grid (ceil(n/32), G),
// block (32, 8).
extern "C" __global__ void np_bias_update(const float* delta, float* bias, float* m, float* v,
                                          int rows, int n, long long gs, int opt, float lr,
                                          float b1, float b2, float c1, float c2, float eps,
                                          const float* bc) {
    __shared__ float acc[8][33];
    int g = blockIdx.y;
    int j = blockIdx.x * 32 + threadIdx.x;
    float s = 0.0f;
    if (j < n) {
        for (int r = threadIdx.y; r < rows; r += 8) {
            s += delta[g * gs + (long long)r * n + j];
        }
    }
    acc[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < n) {
        float t = 0.0f;
        for (int k = 0; k < 8; ++k) {
            t += acc[k][threadIdx.x];
        }
        long long i = (long long)g * n + j;
        bias[i] = np_opt_apply(bias[i], t, m ? m + i : 0, v ? v + i : 0, opt, lr, b1, b2, c1,
                               c2, eps, bc);
    }
}

// The optimiser's update of a flat buffer from its gradient (see np_opt_apply).
extern "C" __global__ void np_weight_update(float* w, float* m, float* v, const float* grad,
                                            long long count, int opt, float lr, float b1,
                                            float b2, float c1, float c2, float eps,
                                            const float* bc) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
         i += (long long)gridDim.x * blockDim.x) {
        w[i] = np_opt_apply(w[i], grad[i], m ? m + i : 0, v ? v + i : 0, opt, lr, b1, b2, c1,
                            c2, eps, bc);
    }
}

// dst = bf16(src) on a flat buffer (the bf16 copy of the fp32 master weights).
extern "C" __global__ void np_to_bf16(const float* src, unsigned short* dst, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count;
         i += (long long)gridDim.x * blockDim.x) {
        dst[i] = np_f32_to_bf16(src[i]);
    }
}
