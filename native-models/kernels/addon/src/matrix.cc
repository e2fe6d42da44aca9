#include "matrix.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <new>

#include "memory.h"
#include "input_file.h"
#include "pool.h"
#include "quantize.h"

namespace exl {

ActivationRows::~ActivationRows() {
  alignedFree(buf_);
  alignedFree(biased_);
}

const uint8_t* ActivationRows::biased(int rows) const {
  if (biasedRows_ >= rows) return biased_;
  const size_t need = (size_t)rows * (size_t)dp_;
  if (need > biasedBytes_) {
    alignedFree(biased_);
    biased_ = static_cast<uint8_t*>(alignedAlloc(need, 64));
    biasedBytes_ = biased_ ? need : 0;
    if (!biased_) return nullptr;
  }
  for (int s = 0; s < rows; s++) {
    const int8_t* q = xq_[s].q;
    uint8_t* o = biased_ + (size_t)s * dp_;
    for (int64_t i = 0; i < dp_; i++) o[i] = (uint8_t)(q[i] ^ 0x80);
  }
  biasedRows_ = rows;
  return biased_;
}

bool ActivationRows::reserve(const Layout& L, int rows) {
  // Per row: q [dp] | corr8 [dp/4] int32 | sx [kb] | xsum [kb] | xsumLo [kb], 64-byte aligned.
  const size_t perRow = ((size_t)L.dp * 2 + (size_t)L.kb * 12 + 63) / 64 * 64;
  const size_t need = perRow * (size_t)rows;
  if (need > bytes_) {
    alignedFree(buf_);
    buf_ = static_cast<uint8_t*>(alignedAlloc(need, 64));
    bytes_ = buf_ ? need : 0;
    if (!buf_) return false;
  }
  for (int s = 0; s < rows; s++) {
    uint8_t* p = buf_ + perRow * (size_t)s;
    xq_[s].q = reinterpret_cast<int8_t*>(p);
    xq_[s].corr8 = reinterpret_cast<int32_t*>(p + L.dp);
    xq_[s].sx = reinterpret_cast<float*>(p + 2 * (size_t)L.dp);
    xq_[s].xsum = reinterpret_cast<int32_t*>(xq_[s].sx + L.kb);
    xq_[s].xsumLo = xq_[s].xsum + L.kb;
  }
  return true;
}

bool ActivationRows::quantize(const Kernels* k, const Layout& L, const float* x, int rows, int64_t stride) {
  if (rows < 1 || rows > kMaxRows || !reserve(L, rows)) return false;
  dp_ = L.dp;
  biasedRows_ = 0;
  // The vector quantizers know blocks with a scale each; groups of blocks sharing one take the portable code.
  bool (*q)(const Layout&, const float*, XQuant&) = k && k->quantize && !L.xGroup ? k->quantize : quantizeActivation;
  for (int s = 0; s < rows; s++) {
    if (!q(L, x + (int64_t)s * stride, xq_[s])) return false;
  }
  return true;
}

Matrix::~Matrix() { alignedFree(w_); }

bool Matrix::allocate(std::string* err) {
  const size_t total = (size_t)bytes();
  w_ = static_cast<uint8_t*>(weightAlloc(total));
  if (!w_) *err = "out of memory allocating " + std::to_string(total) + " bytes of weights";
  return w_ != nullptr;
}

struct MatrixQuantJob {
  Matrix* m;
  const float* w;
  BlockGrid grid;
  std::atomic<int64_t> next{0};
  std::atomic<bool> bad{false};
  static void work(void* p, int) {
    MatrixQuantJob& j = *static_cast<MatrixQuantJob*>(p);
    const PackedLayout& P = j.m->P_;
    for (int64_t g; (g = j.next.fetch_add(1)) < P.groups;)
      if (!packGroup(P, j.w, g, j.m->w_ + (uint64_t)g * P.groupBytes, j.grid)) j.bad.store(true);
  }
};

int Matrix::bits() const {
  int b = P_.bits;
  for (const auto& band : bands_) b = band->bits() > b ? band->bits() : b;
  return b;
}

uint64_t Matrix::bytes() const {
  if (bands_.empty()) return (uint64_t)P_.groups * P_.groupBytes;
  uint64_t t = 0;
  for (const auto& band : bands_) t += band->bytes();
  return t;
}

// The bands share one input layout, so the activations are quantized once for all of them.
bool Matrix::joinBands(std::string* err) {
  const Layout& a = bands_[0]->P_.in;
  int64_t rows = 0;
  for (size_t i = 0; i < bands_.size(); i++) {
    const Matrix& b = *bands_[i];
    const Layout& L = b.P_.in;
    if (!b.bands_.empty() || b.P_.k != P_.k || L.d != a.d || L.dp != a.dp || L.kb != a.kb || L.block != a.block ||
        L.xGroup != a.xGroup) {
      *err = "the bands of a matrix must share its inputs and their quantization";
      return false;
    }
    if (i + 1 < bands_.size() && b.P_.n % kPackRows != 0) {
      *err = "every band but the last must have a multiple of 16 rows";
      return false;
    }
    rows += b.P_.n;
  }
  if (rows != P_.n) {
    *err = "the bands must hold the matrix's rows";
    return false;
  }
  P_.in = a;
  return true;
}

std::unique_ptr<Matrix> Matrix::createBands(int64_t n, int64_t k, int bits, int block, const float* w, int threads,
                                            std::string* err, const BlockGrid& grid) {
  std::unique_ptr<Matrix> m(new Matrix());
  if (grid.bands.size() < 2 || grid.bands.size() > 4) {
    *err = "a banded matrix needs 2 to 4 bands";
    return nullptr;
  }
  if (const char* e = makePackedLayout(n, k, 8, block, false, &m->P_)) {
    *err = e;
    return nullptr;
  }
  int64_t row = 0;
  for (const BlockGrid& g : grid.bands) {
    const int64_t rows = g.source.n > 0 ? g.source.rows() : 0;
    if (rows < 1 || !g.bands.empty()) {
      *err = "every band needs the file's blocks of its rows";
      return nullptr;
    }
    auto band = create(rows, k, bits, block, w ? w + row * k : nullptr, threads, err, g);
    if (!band) return nullptr;
    m->bands_.push_back(std::move(band));
    row += rows;
  }
  if (!m->joinBands(err)) return nullptr;
  return m;
}

std::unique_ptr<Matrix> Matrix::create(int64_t n, int64_t k, int bits, int block, const float* w, int threads,
                                       std::string* err, const BlockGrid& grid) {
  if (!grid.bands.empty()) return createBands(n, k, bits, block, w, threads, err, grid);
  std::unique_ptr<Matrix> m(new Matrix());
  // A kept Q4_0 grid has zero point 8 everywhere, a Q5_0 one 16: no zero points to store (their
  // files' own 18 and 22 bytes). The grid gives the bits it needs (a Q5_0 grid: 5).
  bits = grid.bitsOr(bits);
  const char* e = grid.check(k, block);
  const PackedForm form = grid.isK()      ? PackedForm::Q4K  // bits 4 or 5 (bitsOr)
                          : grid.isK16()  ? PackedForm::K6
                          : grid.isMins() ? PackedForm::Mins
                                          : PackedForm::Plain;
  if (!e) e = makePackedLayout(n, k, bits, block, (bits == 4 || bits == 5) && grid.symmetricGrid(), &m->P_, form, grid.hasMins());
  // K6's halves need xsumLo, which only the grouped activation quantizer writes.
  m->P_.in.xGroup = grid.isK16() ? 256 : grid.xGroup;
  if (e) {
    *err = e;
    return nullptr;
  }
  if (!m->allocate(err)) return nullptr;
  MatrixQuantJob job;
  job.m = m.get(), job.w = w, job.grid = grid;
  Pool::instance().run(threadsFor((double)n * (double)k, threads), MatrixQuantJob::work, &job);
  if (job.bad.load()) {
    *err = grid.keep != Keep::None ? "the file's blocks do not fit their form, or a scale is not finite"
           : grid.scales || grid.isK() || grid.isK16() ? "weights contain a value off their block grid (or not finite)"
                       : "weights contain a non-finite value or a block scale beyond the fp16 range";
    return nullptr;
  }
  return m;
}

void Matrix::dequantizeRow(int64_t row, float* out) const {
  for (const auto& band : bands_) {
    if (row < band->P_.n) return band->dequantizeRow(row, out);
    row -= band->P_.n;
  }
  const int B = P_.block, kb = P_.in.kb, r = (int)(row % kPackRows);
  const uint8_t* grp = group(row / kPackRows);
  for (int b = 0; b < kb; b++) {
    const uint8_t* codes = grp + (uint64_t)b * P_.blockCodeBytes;
    float scale = P_.kquant ? packedKScale(P_, grp, b, r) : P_.k6 ? 0.0f : packedScale(P_, grp, b, r);
    // The K forms subtract dmin·m; the mins form adds its min (x - (-m) is x + m); the others
    // subtract +0, which keeps a -0 as it is.
    const float kmin = P_.kquant || P_.k6 ? packedKMin(P_, grp, b, r) : P_.mins ? -packedMin(P_, grp, b, r) : 0.0f;
    const int zp = P_.kquant ? 0 : P_.k6 ? 32 : packedZeroPoint(P_, grp, b, r);
    for (int j = 0; j < B && (int64_t)b * B + j < P_.k; j++) {
      if (P_.k6 && j % 16 == 0) scale = packedK6Scale(P_, grp, b, j / 16, r);
      const int step = j / 4, byteInStep = r * 4 + (j & 3);
      const int code = P_.k6 ? packedK6Code(P_, grp, b, r, j)
                       : P_.bits == 5 ? packedQ5Code(P_, grp, b, r, j)
                       : P_.bits == 8 ? codes[step * 64 + byteInStep]
                                      : (codes[(step / 2) * 64 + byteInStep] >> (step % 2 ? 4 : 0)) & 15;
      const float scaled = (float)(code - zp) * scale;
      out[(int64_t)b * B + j] = scaled - kmin;  // ggml's (d·sc)·q - dmin·m, or d·q + m; else kmin 0
    }
  }
}

void Matrix::dequantize(float* out) const {
  for (int64_t r = 0; r < P_.n; r++) dequantizeRow(r, out + r * P_.k);
}

namespace {
// Layout 0 (files written before version 1): fp32 block scales, every int4 zero point stored.
// Layout 1: fp16 scales, int4 zero points only when not symmetric (packed.h).
// Layout 2: Q4_K blocks (packed.h), written only for them, so that an older engine refuses the
// file by its layout number instead of misreading it; every other matrix is still written as 1.
constexpr int32_t kMatrixLayout = 1;
constexpr int32_t kMatrixLayoutK = 2;
// Layout 3: the K8 form of one earlier version (8-bit codes), no longer read: its packages are
// imported again (the manifest's sourceBlocks form says so before the engine sees them).
// Layout 4: K6 blocks, written only for them, as layout 2.
// Layout 5: Q4_K blocks with their sc and m at 6 bits (the file's size). Layout 2 stored them
// as bytes; its files are still read, and moved to layout 5 as they are.
constexpr int32_t kMatrixLayoutK8 = 3;
constexpr int32_t kMatrixLayoutK6 = 4;
constexpr int32_t kMatrixLayoutQ4K = 5;
// Layout 6: a matrix in bands (BlockGrid::bands): this header (n, k; `bands` their count), then
// each band as a matrix of its own.
constexpr int32_t kMatrixLayoutBands = 6;
// Layout 7: a file's Q4_1 or Q5_1 blocks, with an fp16 min per block (PackedForm::Mins). Layout 1
// also holds Q5_0 grids in 5-bit codes (bits 5), which engines before them refuse by their bits.
constexpr int32_t kMatrixLayoutMins = 7;
// Layout 8: a file's Q5_K blocks (Q4_K's form with 5-bit codes, bits 5).
constexpr int32_t kMatrixLayoutQ5K = 8;
constexpr int32_t kMatrixLayoutNewest = kMatrixLayoutQ5K;

struct MatrixHeader {
  int64_t n, k;
  int32_t bits, block;
  uint64_t bytes;
  int32_t layout;     // 0 in older files (the padding was zero)
  int32_t symmetric;  // layout 1, int4: no zero points stored
  int32_t xGroup;     // Layout::xGroup (0 in files from before it)
  int32_t kmins;      // layout 4: mins stored
  int32_t bands;      // layout 6: how many bands follow
  uint8_t pad[12];
};
static_assert(sizeof(MatrixHeader) == 64, "rows stay 64-byte aligned in files");

// Layout 0 group -> layout 1 group. Its scales were fp16 values already (quantizeBlock rounds
// them), so the conversion keeps every weight.
void upgradeGroup(const PackedLayout& from, const uint8_t* src, const PackedLayout& to, uint8_t* dst) {
  std::memset(dst, 0, to.groupBytes);
  std::memcpy(dst, src, to.scalesOffset);  // the codes
  const float* s32 = reinterpret_cast<const float*>(src + from.scalesOffset);
  uint16_t* s16 = reinterpret_cast<uint16_t*>(dst + to.scalesOffset);
  const int64_t cells = (int64_t)from.in.kb * kPackRows;
  for (int64_t i = 0; i < cells; i++) s16[i] = floatToHalf(s32[i]);
  if (from.bits == 4) std::memcpy(dst + to.zpOffset, src + from.zpOffset, (size_t)cells);
}

// Layout 2 Q4_K group -> layout 5: the same codes, d and dmin; sc and m from bytes to 6 bits.
// Layout 2 kept u8 sc [kb][16], then u8 m [kb][16], then the superblocks' fp16 d and dmin.
uint64_t q4kBytesGroupSize(const PackedLayout& to) {
  const uint64_t used = to.scalesOffset + (uint64_t)to.in.kb * kPackRows * 2 + (uint64_t)(to.in.kb / 8) * kPackRows * 4;
  return (used + 63) & ~(uint64_t)63;
}
bool upgradeQ4KGroup(const uint8_t* src, const PackedLayout& to, uint8_t* dst) {
  const int kb = to.in.kb;
  std::memset(dst, 0, to.groupBytes);
  std::memcpy(dst, src, to.scalesOffset);  // the codes
  const uint8_t* sc = src + to.scalesOffset;
  const uint8_t* m = sc + (uint64_t)kb * kPackRows;
  for (int b = 0; b < kb; b++)
    for (int r = 0; r < kPackRows; r++) {
      const int i = b * kPackRows + r;
      if (sc[i] > 63 || m[i] > 63) return false;
      putSix(dst + to.scalesOffset, kb, b, r, sc[i]);
      putSix(dst + to.zpOffset, kb, b, r, m[i]);
    }
  std::memcpy(dst + to.superOffset, m + (uint64_t)kb * kPackRows, (size_t)(kb / 8) * kPackRows * 4);
  return true;
}
}  // namespace

bool Matrix::write(FILE* fp) const {
  MatrixHeader h{};
  if (!bands_.empty()) {
    h.n = P_.n, h.k = P_.k, h.bits = bits(), h.block = P_.block, h.layout = kMatrixLayoutBands;
    h.bands = (int32_t)bands_.size();
    if (std::fwrite(&h, sizeof h, 1, fp) != 1) return false;
    for (const auto& band : bands_)
      if (!band->write(fp)) return false;
    return true;
  }
  h.n = P_.n, h.k = P_.k, h.bits = P_.bits, h.block = P_.block, h.bytes = bytes();
  h.layout = P_.kquant ? (P_.bits == 5 ? kMatrixLayoutQ5K : kMatrixLayoutQ4K) : P_.k6 ? kMatrixLayoutK6 : P_.mins ? kMatrixLayoutMins : kMatrixLayout;
  h.symmetric = P_.symmetric ? 1 : 0;
  h.xGroup = P_.in.xGroup;
  h.kmins = P_.k6 && P_.kmins ? 1 : 0;
  return std::fwrite(&h, sizeof h, 1, fp) == 1 && std::fwrite(w_, 1, (size_t)bytes(), fp) == (size_t)bytes();
}

std::unique_ptr<Matrix> Matrix::read(FILE* fp, const std::string& path, std::string* err) { return readOne(fp, path, err, false); }

std::unique_ptr<Matrix> Matrix::readOne(FILE* fp, const std::string& path, std::string* err, bool inBands) {
  MatrixHeader h{};
  if (std::fread(&h, sizeof h, 1, fp) != 1) {
    *err = path + " is truncated (matrix header)";
    return nullptr;
  }
  std::unique_ptr<Matrix> m(new Matrix());
  if (h.n < 1 || h.k < 1) {
    *err = path + ": bad matrix shape";
    return nullptr;
  }
  if (h.layout < 0 || h.layout > kMatrixLayoutNewest) {
    *err = path + ": matrix layout " + std::to_string(h.layout) + " is newer than this engine";
    return nullptr;
  }
  if (h.layout == kMatrixLayoutBands) {
    if (inBands || h.bands < 2 || h.bands > 4 || makePackedLayout(h.n, h.k, 8, h.block, false, &m->P_) != nullptr) {
      *err = path + ": bad banded matrix header";
      return nullptr;
    }
    for (int i = 0; i < h.bands; i++) {
      auto band = readOne(fp, path, err, true);
      if (!band) return nullptr;
      m->bands_.push_back(std::move(band));
    }
    if (!m->joinBands(err)) {
      *err = path + ": " + *err;
      return nullptr;
    }
    return m;
  }
  if (h.layout == kMatrixLayoutK8) {
    *err = path + ": matrix layout 3 (8-bit K-quant codes, from an earlier version) is no longer read; import the model again";
    return nullptr;
  }
  PackedLayout stored{};
  if ((h.layout == kMatrixLayoutQ5K && h.bits != 5) || ((h.layout == kMatrixLayoutK || h.layout == kMatrixLayoutQ4K) && h.bits != 4)) {
    *err = path + ": bad matrix header (a K form's bits)";
    return nullptr;
  }
  const PackedForm form = h.layout == kMatrixLayoutK || h.layout == kMatrixLayoutQ4K || h.layout == kMatrixLayoutQ5K ? PackedForm::Q4K
                          : h.layout == kMatrixLayoutK6                              ? PackedForm::K6
                          : h.layout == kMatrixLayoutMins                            ? PackedForm::Mins
                                                                                     : PackedForm::Plain;
  const char* e = makePackedLayout(h.n, h.k, h.bits, h.block, h.symmetric != 0, &m->P_, form, h.kmins != 0);
  if (!e && h.layout == 0) e = makePackedLayout(h.n, h.k, h.bits, h.block, false, &stored);
  if (e) {
    *err = path + ": " + e;
    return nullptr;
  }
  if ((h.xGroup != 0 && (h.xGroup != 256 || h.k % 256 != 0)) || (form == PackedForm::K6 && h.xGroup != 256) || (h.kmins != 0 && form != PackedForm::K6))
    e = "bad activation group";
  if (e) {
    *err = path + ": " + e;
    return nullptr;
  }
  m->P_.in.xGroup = h.xGroup;
  if (h.layout == 0) {  // the older layout: fp32 scales, taking 4 bytes where layout 1 takes 2
    stored.zpOffset = stored.scalesOffset + (uint64_t)stored.in.kb * kPackRows * 4;
    const uint64_t used = stored.zpOffset + (h.bits == 4 ? (uint64_t)stored.in.kb * kPackRows : 0);
    stored.groupBytes = (used + 63) & ~(uint64_t)63;
  } else stored = m->P_;
  if (h.layout == kMatrixLayoutK) stored.groupBytes = q4kBytesGroupSize(m->P_);
  if ((uint64_t)stored.groups * stored.groupBytes != h.bytes) {
    *err = path + ": matrix size in the header does not match its shape";
    return nullptr;
  }
  if (!m->allocate(err)) return nullptr;
  if (h.layout != 0 && h.layout != kMatrixLayoutK) {
    if (std::fread(m->w_, 1, (size_t)h.bytes, fp) != (size_t)h.bytes) {
      *err = path + " is truncated (matrix rows)";
      return nullptr;
    }
    return m;
  }
  std::unique_ptr<uint8_t[]> old(new (std::nothrow) uint8_t[stored.groupBytes]);
  if (!old) {
    *err = "out of memory reading " + path;
    return nullptr;
  }
  for (int64_t g = 0; g < stored.groups; g++) {
    if (std::fread(old.get(), 1, (size_t)stored.groupBytes, fp) != (size_t)stored.groupBytes) {
      *err = path + " is truncated (matrix rows)";
      return nullptr;
    }
    uint8_t* dst = m->w_ + (uint64_t)g * m->P_.groupBytes;
    if (h.layout == 0) {
      upgradeGroup(stored, old.get(), m->P_, dst);
    } else if (!upgradeQ4KGroup(old.get(), m->P_, dst)) {
      *err = path + ": a Q4_K scale or min is beyond 6 bits";
      return nullptr;
    }
  }
  return m;
}

constexpr int64_t kChunkGroups = 8;

// Each thread owns an equal, contiguous share of the groups of 16 output rows and claims
// stretches of it front to back, so its reads are one sequential stream (on 7B shapes' FFNs, 2
// threads, 4% more GB/s than threads taking turns at stretches, about what fixed halves give);
// a thread done with its own share takes stretches from the back of another's, so a
// descheduled thread's work is picked up (or all of it, by the caller, when a worker never
// joins). Each group is multiplied with every activation row (up to the kernels' packedRows per
// call) while it is in cache, so the weights stream from memory once per call. A banded
// matrix's groups are claimed as one run: band b's groups follow band b-1's, its rows write at
// its own offset of each output row.
struct MultiplyJob {
  static constexpr int kMaxBands = 4;
  const Matrix* band[kMaxBands];
  int64_t firstGroup[kMaxBands + 1];  // band b holds groups [firstGroup[b], firstGroup[b+1])
  int64_t firstRow[kMaxBands];
  int bands = 0;
  int64_t n = 0;  // the output row's length (all bands)
  const Kernels* k;
  const ActivationRows* x;
  int rows;
  float* y;
  int64_t chunk;  // groups per claim: one contiguous stretch of weights at a time
  const uint8_t* xu8 = nullptr;  // the rows as unsigned codes, when the tile kernel runs
  int owners = 0;
  std::atomic<uint64_t> range[kMaxThreads];  // the unclaimed groups of each owner's share: lo | hi << 32
  // A stretch of up to `chunk` groups [g0, g1) from the front or the back of share s.
  bool take(int s, bool fromFront, int64_t* g0, int64_t* g1) {
    uint64_t v = range[s].load(std::memory_order_relaxed);
    for (;;) {
      const uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
      if (lo >= hi) return false;
      const uint32_t c = (uint32_t)(hi - lo < chunk ? hi - lo : chunk);
      const uint64_t nv = fromFront ? (uint64_t)hi << 32 | (lo + c) : (uint64_t)(hi - c) << 32 | lo;
      if (range[s].compare_exchange_weak(v, nv, std::memory_order_relaxed)) {
        *g0 = fromFront ? lo : hi - c, *g1 = fromFront ? lo + c : hi;
        return true;
      }
    }
  }
  // The next stretch for the thread in `slot`: its own share first, then the others' tails.
  bool claim(int slot, int64_t* g0, int64_t* g1) {
    if (slot < owners && take(slot, true, g0, g1)) return true;
    for (int i = 1; i <= owners; i++)
      if (take((slot + i) % owners, false, g0, g1)) return true;
    return false;
  }
  static void work(void* p, int slot) {
    MultiplyJob& j = *static_cast<MultiplyJob*>(p);
    constexpr int kMaxTile = 8;
    const XQuant* xs[kMaxTile];
    float tile[kMaxTile][kPackRows];
    float* outs[kMaxTile];
    for (int i = 0; i < kMaxTile; i++) outs[i] = tile[i];
    const int per = j.k->packedRows < kMaxTile ? j.k->packedRows : kMaxTile;
    const XQuant* txs[kMaxRows];
    float tileOut[kMaxRows][kPackRows];
    float* touts[kMaxRows];
    const int tileRows = j.xu8 ? j.rows / 16 * 16 : 0;
    for (int i = 0; i < tileRows; i++) txs[i] = &j.x->row(i), touts[i] = tileOut[i];
    for (int64_t g0, g1; j.claim(slot, &g0, &g1);) {
      int b = 0;
      for (int64_t g = g0; g < g1; g++) {
        while (g >= j.firstGroup[b + 1]) b++;
        const Matrix& m = *j.band[b];
        const PackedLayout& P = m.P_;
        const int64_t local = g - j.firstGroup[b], r0 = local * kPackRows, cnt = P.n - r0 < kPackRows ? P.n - r0 : kPackRows;
        float* y = j.y + j.firstRow[b] + r0;
        // Whole tiles of 16 rows through the tile kernel where there is one and the form allows
        // (same results), the rest through `packed`.
        const int tiled = tileUsable(P) ? tileRows : 0;
        for (int t0 = 0; t0 < tiled; t0 += 64) {
          const int c = tiled - t0 < 64 ? tiled - t0 : 64;
          j.k->packedTiles(P, m.group(local), c / 16, txs + t0, j.xu8 + (int64_t)t0 * j.x->stride(), j.x->stride(), touts + t0);
          for (int i = t0; i < t0 + c; i++) std::memcpy(y + (int64_t)i * j.n, tileOut[i], sizeof(float) * cnt);
        }
        for (int s0 = tiled; s0 < j.rows; s0 += per) {
          const int c = j.rows - s0 < per ? j.rows - s0 : per;
          for (int i = 0; i < c; i++) xs[i] = &j.x->row(s0 + i);
          j.k->packed(P, m.group(local), c, xs, outs);
          for (int i = 0; i < c; i++) std::memcpy(y + (int64_t)(s0 + i) * j.n, tile[i], sizeof(float) * cnt);
        }
      }
    }
  }
  // The tile kernel knows int8 and int4 codes with one scale and zero point per block, not 5-bit
  // codes, the mins form's, Q4_K's or K6's:
  // those matrices stay on `packed`.
  static bool tileUsable(const PackedLayout& P) { return P.block % 32 == 0 && P.bits != 5 && !P.kquant && !P.k6 && !P.mins; }
};

void Matrix::multiply(const Kernels* k, int threads, const ActivationRows& x, int rows, float* y) const {
  MultiplyJob job;
  job.k = k, job.x = &x, job.rows = rows, job.y = y, job.n = P_.n;
  bool tiles = false;
  int64_t groups = 0, row = 0;
  const auto add = [&](const Matrix* m) {
    job.band[job.bands] = m, job.firstGroup[job.bands] = groups, job.firstRow[job.bands] = row;
    job.bands++, groups += m->P_.groups, row += m->P_.n;
    tiles = tiles || MultiplyJob::tileUsable(m->P_);
  };
  if (bands_.empty()) add(this);
  for (const auto& band : bands_) add(band.get());
  job.firstGroup[job.bands] = groups;
  if (k->packedTiles && rows >= 16 && tiles) job.xu8 = x.biased(rows);
  const int t = threadsFor((double)P_.n * (double)P_.k * rows, threads);
  // Stretches of up to 8 groups, at least 8 per share, so that what a descheduled thread
  // leaves is taken in pieces by the others.
  const int64_t chunk = groups / (8 * (int64_t)t);
  job.chunk = chunk < 1 ? 1 : chunk > kChunkGroups ? kChunkGroups : chunk;
  job.owners = t;
  for (int s = 0; s < t; s++) job.range[s].store((uint64_t)(groups * (s + 1) / t) << 32 | (uint64_t)(groups * s / t));
  Pool::instance().run(t, MultiplyJob::work, &job);
}

int threadsFor(double macs, int threads) {
  // ~20 µs of one core's int8 multiply-adds; below it, even a spinning worker costs more than
  // it saves.
  constexpr double kSpinning = 2097152.0;
  if (threads <= 1 || macs < kSpinning) return 1;
  // A sleeping worker takes tens of microseconds to wake (a futex wake and a reschedule: on a
  // 2-vCPU host kjv16's LM head over 3 rows took 57-71 µs split, 38-47 µs on one thread), so jobs
  // up to 4x that size wait for a worker only while it still spins from the last parallel job.
  if (macs < 4 * kSpinning && !Pool::instance().workersSpinning()) return 1;
  return threads;
}

}  // namespace exl

namespace exl {
namespace {
constexpr char kLinearMagic[8] = {'E', 'X', 'L', 'L', 'I', 'N', 'E', '1'};
struct LinearHeader {
  char magic[8];
  uint32_t endianMark;
  int32_t hasBias, hasNorm;
  float eps;
  uint8_t pad[40];
};
static_assert(sizeof(LinearHeader) == 64, "header is 64 bytes");
}  // namespace

std::unique_ptr<Linear> Linear::create(int64_t n, int64_t k, int bits, int block, const float* w, const float* bias,
                                       const float* norm, float eps, int threads, std::string* err,
                                       const BlockGrid& grid) {
  std::unique_ptr<Linear> l(new Linear());
  if (!(l->m_ = Matrix::create(n, k, bits, block, w, threads, err, grid))) return nullptr;
  if (bias) {
    l->bias_.reset(new float[n]);
    std::memcpy(l->bias_.get(), bias, sizeof(float) * n);
  }
  if (norm) {
    if (!(eps > 0)) {
      *err = "eps must be > 0 with a norm";
      return nullptr;
    }
    l->norm_.reset(new float[k]);
    std::memcpy(l->norm_.get(), norm, sizeof(float) * k);
  }
  l->eps_ = eps;
  return l;
}

// File: header | int64 lengths {norm, bias} | norm floats | bias floats | matrix.
bool Linear::save(const std::string& path, std::string* err) const {
  LinearHeader h{};
  std::memcpy(h.magic, kLinearMagic, 8);
  h.endianMark = 0x01020304u, h.hasBias = bias_ != nullptr, h.hasNorm = norm_ != nullptr, h.eps = eps_;
  const int64_t lens[2] = {norm_ ? m_->inputs() : 0, bias_ ? m_->outputs() : 0};
  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) {
    *err = "cannot open " + path + " for writing";
    return false;
  }
  bool ok = std::fwrite(&h, sizeof h, 1, fp) == 1 && std::fwrite(lens, sizeof lens, 1, fp) == 1;
  if (norm_) ok = ok && std::fwrite(norm_.get(), sizeof(float), (size_t)lens[0], fp) == (size_t)lens[0];
  if (bias_) ok = ok && std::fwrite(bias_.get(), sizeof(float), (size_t)lens[1], fp) == (size_t)lens[1];
  ok = ok && m_->write(fp);
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) *err = "writing " + path + " failed";
  return ok;
}

std::unique_ptr<Linear> Linear::load(const std::string& path, std::string* err) {
  InputFile file(path, err);
  FILE* fp = file.fp();
  if (!fp) return nullptr;
  LinearHeader h{};
  if (std::fread(&h, sizeof h, 1, fp) != 1 || std::memcmp(h.magic, kLinearMagic, 8) != 0 || h.endianMark != 0x01020304u) {
    *err = path + " is not a native linear-layer file";
    return nullptr;
  }
  int64_t lens[2] = {0, 0};
  if (std::fread(lens, sizeof lens, 1, fp) != 1 || lens[0] < 0 || lens[1] < 0 || lens[0] > (1 << 22) || lens[1] > (1 << 24)) {
    *err = path + " is truncated or corrupt";
    return nullptr;
  }
  std::unique_ptr<Linear> l(new Linear());
  auto readVector = [&](std::unique_ptr<float[]>& v, int64_t n) {
    if (!n) return true;
    v.reset(new float[n]);
    return std::fread(v.get(), sizeof(float), (size_t)n, fp) == (size_t)n;
  };
  if (!readVector(l->norm_, lens[0]) || !readVector(l->bias_, lens[1])) {
    *err = path + " is truncated";
    return nullptr;
  }
  if (!(l->m_ = Matrix::read(fp, path, err))) return nullptr;
  if (lens[0] != (h.hasNorm ? l->m_->inputs() : 0) || lens[1] != (h.hasBias ? l->m_->outputs() : 0) ||
      (h.hasNorm && !(h.eps > 0))) {
    *err = path + ": norm or bias does not match the matrix";
    return nullptr;
  }
  l->eps_ = h.eps;
  return l;
}

bool Linear::run(const Kernels* kern, int threads, const float* x, int rows, float* y) {
  const int64_t k = m_->inputs(), n = m_->outputs();
  const float* in = x;
  if (norm_) {
    if (rows > normedRows_) {
      normed_.reset(new (std::nothrow) float[(size_t)rows * k]);
      normedRows_ = normed_ ? rows : 0;
      if (!normed_) return false;
    }
    for (int r = 0; r < rows; r++) {
      const float* xr = x + (int64_t)r * k;
      float ss = 0;
      for (int64_t i = 0; i < k; i++) ss += xr[i] * xr[i];
      const float inv = 1.0f / std::sqrt(ss / (float)k + eps_);
      float* o = normed_.get() + (int64_t)r * k;
      for (int64_t i = 0; i < k; i++) o[i] = xr[i] * inv * norm_[i];
    }
    in = normed_.get();
  }
  if (!xq_.quantize(kern, m_->layout(), in, rows, k)) return false;
  m_->multiply(kern, threads, xq_, rows, y);
  if (bias_)
    for (int r = 0; r < rows; r++)
      for (int64_t i = 0; i < n; i++) y[(int64_t)r * n + i] += bias_[i];
  return true;
}

}  // namespace exl
