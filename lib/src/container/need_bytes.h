#pragma once
// What the reader throws when it needs bytes past the prefix of a file it was given (a file read
// through a Source): GgufFile::open(Source) reads more and parses again (where the header scan
// found the header's end first, the reader does not run out). Never thrown for a file
// wholly in memory, whose reads stop at the end of the file with an Error instead.
#include <cstdint>

namespace gguftk {

struct NeedBytes {
    uint64_t at;   // where the read that ran out starts
    uint64_t end;  // the prefix must reach this far (never past the end of the file)
};

}  // namespace gguftk
