// A file opened for reading that closes itself: the weight files' loaders all start this way.
#pragma once
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace exl {

class InputFile {
 public:
  // On failure fp() is null and *err says why.
  InputFile(const std::string& path, std::string* err) : fp_(std::fopen(path.c_str(), "rb")) {
    if (!fp_) *err = "cannot open " + path + ": " + std::strerror(errno);
  }
  ~InputFile() {
    if (fp_) std::fclose(fp_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  FILE* fp() const { return fp_; }

 private:
  FILE* fp_;
};

}  // namespace exl
