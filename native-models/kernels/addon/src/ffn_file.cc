// Save/load of the laid-out weights: a 64-byte header, then the rows exactly as in memory, so a
// model package can store them and loading is one read (no re-quantization).
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ffn.h"
#include "input_file.h"

namespace exl {
namespace {

constexpr char kMagic[8] = {'E', 'X', 'L', 'S', 'F', 'F', 'N', '1'};
// The packed dense form: the same header (totalBytes = 0), then the gate, up and down matrices.
constexpr char kDenseMagic[8] = {'E', 'X', 'L', 'D', 'F', 'F', 'N', '1'};
constexpr uint32_t kHeaderBytes = 64;
constexpr uint32_t kEndianMark = 0x01020304u;

struct FileHeader {
  char magic[8];
  uint32_t headerBytes, endianMark;
  int32_t d, ffn, bits, block, order, activation;  // activation: 0 in files from before GELU (SiLU)
  uint64_t totalBytes;
  uint8_t pad[16];
};
static_assert(sizeof(FileHeader) == kHeaderBytes, "header is 64 bytes so the weights stay aligned");

}  // namespace

bool Ffn::saveDense(const std::string& path, std::string* err) const {
  FileHeader h{};
  std::memcpy(h.magic, kDenseMagic, 8);
  h.headerBytes = kHeaderBytes;
  h.endianMark = kEndianMark;
  h.d = L_.d, h.ffn = L_.ffn, h.bits = L_.bits, h.block = L_.block, h.order = (int32_t)L_.order;
  h.activation = L_.activation;
  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) {
    *err = "cannot open " + path + " for writing: " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(&h, sizeof h, 1, fp) == 1 && gate_->write(fp) && up_->write(fp) && down_->write(fp);
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) *err = "writing " + path + " failed: " + std::strerror(errno);
  return ok;
}

std::unique_ptr<Ffn> Ffn::loadDense(FILE* fp, const Layout& L, const std::string& path, std::string* err) {
  std::unique_ptr<Ffn> f(new Ffn());
  f->L_ = L;
  if (!(f->gate_ = Matrix::read(fp, path, err)) || !(f->up_ = Matrix::read(fp, path, err)) ||
      !(f->down_ = Matrix::read(fp, path, err)))
    return nullptr;
  const Matrix *g = f->gate_.get(), *u = f->up_.get(), *dn = f->down_.get();
  if (g->outputs() != L.ffn || g->inputs() != L.d || u->outputs() != L.ffn || u->inputs() != L.d ||
      dn->outputs() != L.d || dn->inputs() != L.ffn) {
    *err = path + ": matrix shapes do not match the FFN's header";
    return nullptr;
  }
  char extra;
  if (std::fread(&extra, 1, 1, fp) != 0) {
    *err = path + " has trailing bytes after the weights";
    return nullptr;
  }
  return f;
}

bool Ffn::save(const std::string& path, std::string* err) const {
  if (!w_) return saveDense(path, err);
  FileHeader h{};
  std::memcpy(h.magic, kMagic, 8);
  h.headerBytes = kHeaderBytes;
  h.endianMark = kEndianMark;
  h.d = L_.d, h.ffn = L_.ffn, h.bits = L_.bits, h.block = L_.block, h.order = (int32_t)L_.order;
  h.activation = L_.activation;
  h.totalBytes = L_.totalBytes;
  FILE* fp = std::fopen(path.c_str(), "wb");
  if (!fp) {
    *err = "cannot open " + path + " for writing: " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(&h, sizeof h, 1, fp) == 1 && std::fwrite(w_, 1, L_.totalBytes, fp) == L_.totalBytes;
  ok = (std::fclose(fp) == 0) && ok;
  if (!ok) *err = "writing " + path + " failed: " + std::strerror(errno);
  return ok;
}

std::unique_ptr<Ffn> Ffn::load(const std::string& path, std::string* err) {
  InputFile file(path, err);
  FILE* fp = file.fp();
  if (!fp) return nullptr;
  FileHeader h{};
  const bool dense = std::fread(&h, sizeof h, 1, fp) == 1 && std::memcmp(h.magic, kDenseMagic, 8) == 0;
  if (!dense && std::memcmp(h.magic, kMagic, 8) != 0) {
    *err = path + " is not a native FFN file (bad magic)";
    return nullptr;
  }
  if (h.endianMark != kEndianMark || h.headerBytes != kHeaderBytes) {
    *err = path + ": unsupported header (other byte order or version)";
    return nullptr;
  }
  Layout L{};
  if (h.order != 0 && h.order != 1) {
    *err = path + ": unknown row order";
    return nullptr;
  }
  if (const char* e = makeLayout(h.d, h.ffn, h.bits, h.block, (RowOrder)h.order, &L)) {
    *err = path + ": " + e;
    return nullptr;
  }
  if (h.activation != 0 && h.activation != 1) {
    *err = path + ": unknown activation";
    return nullptr;
  }
  L.activation = h.activation;
  if (dense) return loadDense(fp, L, path, err);
  if (L.totalBytes != h.totalBytes) {
    *err = path + ": weight size in the header does not match its shape";
    return nullptr;
  }
  std::unique_ptr<Ffn> f(new Ffn());
  if (!f->allocate(L, err)) return nullptr;
  if (std::fread(f->w_, 1, L.totalBytes, fp) != L.totalBytes) {
    *err = path + " is truncated";
    return nullptr;
  }
  char extra;
  if (std::fread(&extra, 1, 1, fp) != 0) {
    *err = path + " has trailing bytes after the weights";
    return nullptr;
  }
  return f;
}

}  // namespace exl
