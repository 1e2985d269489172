// Base64 (RFC 4648, standard alphabet) for data: URLs of uploaded images.
#pragma once

#include <string>
#include <string_view>

namespace kantu::server {

// Decodes base64; ASCII whitespace is skipped, padding is optional. Anything else
// that is not in the alphabet, or a dangling single character, throws
// Error(kInvalidArgument) naming `what`.
std::string base64_decode(std::string_view text, std::string_view what);
std::string base64_encode(std::string_view bytes);

}  // namespace kantu::server
