// A 128-bit content hash (two FNV-1a-64 lanes with different seeds) as hex plus the byte
// count, for cache keys (image bytes, decoded pixels); not cryptographic, collisions need
// ~2^64 distinct inputs.
#pragma once

#include <string>
#include <string_view>

namespace kantu {

std::string content_hash(std::string_view bytes);

}  // namespace kantu
