// Used when the build did not produce the page (npm missing, or KANTU_BUILD_WEB=OFF):
// cmake/web.cmake defines KANTU_HAVE_WEB_ASSETS and adds the generated source instead.
#ifndef KANTU_HAVE_WEB_ASSETS

#include "server/web_assets.h"

namespace kantu::server {

namespace {
constexpr std::string_view kPage =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>kantu</title></head>"
    "<body><h1>kantu: web UI not built</h1><p>This binary was built without the web page "
    "(npm was not available, or KANTU_BUILD_WEB was OFF). The API works: POST "
    "/v1/chat/completions, POST /v1/vision/completion, GET /v1/models, /health, /metrics."
    "</p></body></html>\n";
constexpr WebAsset kAssets[] = {{"/index.html", "text/html; charset=utf-8", kPage}};
}  // namespace

std::span<const WebAsset> web_assets() { return kAssets; }
bool web_ui_built() { return false; }

}  // namespace kantu::server

#endif  // KANTU_HAVE_WEB_ASSETS
