// The web page's files, embedded in the binary so `kantu serve` works offline. When
// the build ran npm (cmake/web.cmake) they come from a generated source; otherwise
// web_assets_fallback.cpp provides one page saying the UI was not built.
#pragma once

#include <span>
#include <string_view>

namespace kantu::server {

struct WebAsset {
  std::string_view path;          // "/index.html", "/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view data;
};

std::span<const WebAsset> web_assets();
bool web_ui_built();

}  // namespace kantu::server
