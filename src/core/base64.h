// Base64 (RFC 4648) and base64 data: URLs, the one implementation for every place that
// reads or writes them: images sent to the server, message files of `kantu run`/`prompt`,
// and the requests `kantu eval run` sends.
#pragma once

#include <string>
#include <string_view>

namespace kantu {

// Standard alphabet, '=' padding.
std::string base64_encode(std::string_view bytes);

// Decodes base64: ASCII whitespace is skipped, padding is optional, and the URL-safe
// '-' and '_' are accepted for '+' and '/' (some clients send them). Any other
// character, data after padding, or a dangling single character throws
// Error(kInvalidArgument) naming `what`.
std::string base64_decode(std::string_view text, std::string_view what);

struct DataUrl {
  std::string media_type;  // as written before ";base64", e.g. "image/png"; may be empty
  std::string bytes;       // the decoded payload
};

// data:[<media type>][;<parameter>...];base64,<data>. Only base64 payloads are
// accepted; anything else is Error(kInvalidArgument) naming `what`.
DataUrl parse_data_url(std::string_view url, std::string_view what);

}  // namespace kantu
