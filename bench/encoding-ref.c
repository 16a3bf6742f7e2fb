/*
 * C reference of the cube-cbc encoding kernels, v2 and v1 (main/hosting/encoding-kernel.wat,
 * main/hosting/encoding-js.ts): the attacker's speed and our physical limit. bench/encoding.ts
 * writes this file to a temp dir, compiles it with `gcc -O3 -march=native` in the same run and
 * checks that its output equals the JavaScript and WebAssembly kernels' on the same inputs.
 *
 *   encoding-ref <input> <output> <seconds> <mode>
 *
 * input: u32 n, u32 rounds, u32 count, then count x (4n bytes of block words, zero-padded,
 * then 4 (rounds + 1)(n + 1) bytes of keystream), all little-endian. output: the count encoded
 * blocks (4n bytes each). Prints "<blocks> <seconds>" after encoding the blocks round robin for
 * at least <seconds> of CPU time (the machine may be shared).
 * mode "v2": cube-cbc-v2, odd rounds from word n - 1 down to 0; round r + 1 starts from the
 * word round r ended with, so nothing overlaps: this is the latency of a cheater re-encoding the
 * blocks of a walk one after the other (it cannot interleave them: each next block depends on
 * the last one's content).
 * v1, mode "plain": round after round. mode "wave": the same result with up to four rounds
 * interleaved as a wavefront (round r + 1 runs one word behind round r), the latency a one-core
 * attacker gets from instruction-level parallelism under v1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define P 4294967291ULL

static inline uint64_t red(uint64_t t) {
  t = (t & 0xffffffffULL) + (t >> 32) * 5;
  return t >= P ? t - P : t;
}

static inline uint64_t mul(uint64_t a, uint64_t b) {
  uint64_t t = a * b;
  t = (t & 0xffffffffULL) + (t >> 32) * 5;
  return red(t);
}

static inline uint64_t sqm(uint64_t r, int k, uint64_t m) {
  for (int i = 0; i < k; i++) r = mul(r, r);
  return mul(r, m);
}

/* x^0xAAAAAAA7 mod p: the same addition chain as the WebAssembly kernel */
static inline uint64_t cube_root(uint64_t x) {
  uint64_t x2 = mul(x, x), x5 = sqm(x2, 1, x), x10 = mul(x5, x5), x7 = mul(x5, x2);
  uint64_t t2 = sqm(x10, 4, x10);
  uint64_t t = sqm(t2, 8, t2);
  t = sqm(t, 8, t2);
  t = sqm(t, 4, x10);
  return sqm(t, 4, x7);
}

/* word j of round r given the previous round's word x and this round's previous output */
static inline uint32_t step(uint32_t x, uint32_t k, uint64_t *prev) {
  if (x >= P) { *prev = x - P; return x; }
  uint64_t y = cube_root(red((uint64_t)x + k + *prev));
  *prev = y;
  return (uint32_t)y;
}

static void encode_plain(uint32_t *w, const uint32_t *ks, uint32_t n, uint32_t rounds) {
  for (uint32_t j = 0; j < n; j++) w[j] ^= ks[j];
  for (uint32_t r = 0; r < rounds; r++) {
    const uint32_t *k = ks + (size_t)(r + 1) * (n + 1);
    uint64_t prev = red(k[0]);
    for (uint32_t j = 0; j < n; j++) w[j] = step(w[j], k[1 + j], &prev);
  }
}

/* cube-cbc-v2: odd rounds run the chain from the last word to the first */
static void encode_v2(uint32_t *w, const uint32_t *ks, uint32_t n, uint32_t rounds) {
  for (uint32_t j = 0; j < n; j++) w[j] ^= ks[j];
  for (uint32_t r = 0; r < rounds; r++) {
    const uint32_t *k = ks + (size_t)(r + 1) * (n + 1);
    uint64_t prev = red(k[0]);
    if (r & 1) for (uint32_t j = n; j-- > 0;) w[j] = step(w[j], k[1 + j], &prev);
    else for (uint32_t j = 0; j < n; j++) w[j] = step(w[j], k[1 + j], &prev);
  }
}

/* CBRTN(x, N): N cube roots with their chains interleaved statement by statement, so the
   compiler and the CPU overlap them (the same addition chain as cube_root) */
#define MULN(d, a, b) for (int q = 0; q < N; q++) d[q] = mul(a[q], b[q]);
#define SQMN(r, k, m) { for (int i = 0; i < k; i++) MULN(r, r, r) MULN(r, r, m) }
#define CBRTN(x) { uint64_t x2[N], x5[N], x10[N], x7[N], t2[N]; \
  MULN(x2, x, x) MULN(x5, x2, x2) MULN(x5, x5, x) MULN(x10, x5, x5) MULN(x7, x5, x2) \
  for (int q = 0; q < N; q++) { t2[q] = x10[q]; } SQMN(t2, 4, x10) \
  uint64_t t[N]; for (int q = 0; q < N; q++) { t[q] = t2[q]; } SQMN(t, 8, t2) SQMN(t, 8, t2) SQMN(t, 4, x10) SQMN(t, 4, x7) \
  for (int q = 0; q < N; q++) x[q] = t[q]; }

/* rounds r .. r + N - 1 as a wavefront: at time s, round r + q handles word s - q */
#define WAVE(N) static void wave##N(uint32_t *w, const uint32_t *ks, uint32_t n, uint32_t r) { \
  uint64_t prev[N], s[N]; uint32_t xs[N]; int live[N]; const uint32_t *k[N]; \
  for (int q = 0; q < N; q++) { k[q] = ks + (size_t)(r + q + 1) * (n + 1); prev[q] = red(k[q][0]); } \
  for (int64_t t = 0; t < (int64_t)n + N - 1; t++) { \
    for (int q = 0; q < N; q++) { int64_t j = t - q; live[q] = j >= 0 && j < (int64_t)n; \
      xs[q] = live[q] ? w[j] : 0; s[q] = red((uint64_t)xs[q] + (live[q] ? k[q][1 + j] : 0) + prev[q]); } \
    CBRTN(s) \
    for (int q = 0; q < N; q++) { if (!live[q]) continue; int64_t j = t - q; \
      if (xs[q] >= P) prev[q] = xs[q] - P; else { prev[q] = s[q]; w[j] = (uint32_t)s[q]; } } } }
#define N 2
WAVE(2)
#undef N
#define N 4
WAVE(4)
#undef N

/* the same result as encode_plain, rounds run four, then two, then one at a time as wavefronts */
static void encode_wave(uint32_t *w, const uint32_t *ks, uint32_t n, uint32_t rounds) {
  for (uint32_t j = 0; j < n; j++) w[j] ^= ks[j];
  uint32_t r = 0;
  for (; r + 3 < rounds; r += 4) wave4(w, ks, n, r);
  for (; r + 1 < rounds; r += 2) wave2(w, ks, n, r);
  for (; r < rounds; r++) {
    const uint32_t *k = ks + (size_t)(r + 1) * (n + 1);
    uint64_t prev = red(k[0]);
    for (uint32_t j = 0; j < n; j++) w[j] = step(w[j], k[1 + j], &prev);
  }
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: encoding-ref <input> <output> <seconds> <v2|plain|wave>\n"); return 2; }
  FILE *in = fopen(argv[1], "rb");
  uint32_t hdr[3];
  if (!in || fread(hdr, 4, 3, in) != 3) { fprintf(stderr, "bad input\n"); return 1; }
  uint32_t n = hdr[0], rounds = hdr[1], count = hdr[2];
  size_t ksw = (size_t)(rounds + 1) * (n + 1), per = n + ksw;
  uint32_t *data = malloc(4 * per * count), *w = malloc(4 * n), *out = malloc(4 * (size_t)n * count);
  if (fread(data, 4, per * count, in) != per * count) { fprintf(stderr, "short input\n"); return 1; }
  fclose(in);
  void (*enc)(uint32_t *, const uint32_t *, uint32_t, uint32_t) =
    strcmp(argv[4], "v2") == 0 ? encode_v2 : strcmp(argv[4], "wave") == 0 ? encode_wave : encode_plain;
  for (uint32_t i = 0; i < count; i++) {
    memcpy(out + (size_t)i * n, data + i * per, 4 * n);
    enc(out + (size_t)i * n, data + i * per + n, n, rounds);
  }
  double budget = atof(argv[3]), start = now(), el = 0;
  uint64_t blocks = 0;
  while (el < budget) {
    uint32_t i = blocks++ % count;
    memcpy(w, data + i * per, 4 * n);
    enc(w, data + i * per + n, n, rounds);
    el = now() - start;
  }
  FILE *o = fopen(argv[2], "wb");
  fwrite(out, 4, (size_t)n * count, o);
  fclose(o);
  printf("%llu %.6f %u\n", (unsigned long long)blocks, el, w[0]);
  return 0;
}
