// The remote module of a build without libcurl (GGUFTK_REMOTE=OFF, or libcurl not found): the
// locations are still understood, and reading one says why it cannot be.
#include "remote/remote.h"

namespace gguftk::remote {

struct Session {};

std::unique_ptr<Source> open_source(const Location& where, const Options&, uint64_t, std::shared_ptr<Session>&) {
    throw Error("this gguftk was built without libcurl: remote files cannot be read (install libcurl's "
                "development files and build again with GGUFTK_REMOTE=ON)",
                std::nullopt, where.display);
}

}  // namespace gguftk::remote
