// ReadWholeFile: every byte as stored, and an error that names the file and the reason.
#include "base/whole_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace vigil {
namespace {

class WholeFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "whole_file.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::string dir_;
};

TEST_F(WholeFileTest, ReadsEveryByte) {
  std::string bytes("nul\0\r\n\xff", 7);
  while (bytes.size() < 200000) bytes += bytes;  // more than one read's buffer
  auto read = ReadWholeFile(Write("binary", bytes));
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(*read, bytes);
}

TEST_F(WholeFileTest, AnEmptyFileIsEmptyNotAnError) {
  auto read = ReadWholeFile(Write("empty", ""));
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(*read, "");
}

TEST_F(WholeFileTest, ErrorsNameThePathAndTheReason) {
  auto missing = ReadWholeFile(dir_ + "/absent.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), dir_ + "/absent.csv: cannot open: No such file or directory");

  auto directory = ReadWholeFile(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error(), dir_ + ": is a directory, not a file");

  if (::geteuid() != 0) {  // root reads whatever the mode says
    const std::string locked = Write("locked", "secret");
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
    auto denied = ReadWholeFile(locked);
    ASSERT_FALSE(denied.ok());
    EXPECT_EQ(denied.error(), locked + ": cannot open: Permission denied");
  }
}

}  // namespace
}  // namespace vigil
