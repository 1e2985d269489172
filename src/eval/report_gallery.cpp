// The gallery of the HTML report: for every image the runs captioned, in the annotation
// file's order, a thumbnail (JPEG, longest side 192 px, embedded as a data URL so the page
// stays one file: about 5-10 KB per image), the reference captions, and each run's caption
// in the run's colour.
#include <algorithm>

#include "core/base64.h"
#include "core/error.h"
#include "eval/coco.h"
#include "eval/report_html_parts.h"
#include "image/decode.h"
#include "image/encode_jpeg.h"
#include "image/resize.h"

namespace kantu::eval::html {
namespace {

constexpr int kThumbSide = 192;

// A data URL of the image's thumbnail, or "" when it cannot be read.
std::string thumbnail(const std::string& path) {
  try {
    const RgbImage image = decode_image_file(path);
    const double scale = static_cast<double>(kThumbSide) / std::max(image.width, image.height);
    const RgbImage small =
        scale < 1 ? resize_bicubic(image, std::max(1, static_cast<int>(image.width * scale + 0.5)),
                                   std::max(1, static_cast<int>(image.height * scale + 0.5)))
                  : image;
    return "data:image/jpeg;base64," + base64_encode(encode_jpeg(small, 75));
  } catch (const Error&) {
    return "";
  }
}

}  // namespace

std::string gallery(const std::vector<RunStats>& runs) {
  if (runs.empty()) return "";
  for (const RunStats& r : runs) {
    if (r.annotations.empty() || r.annotations != runs[0].annotations) {
      return "<p>The runs were made on different annotation files: no gallery.</p>";
    }
  }
  CocoAnnotations annotations;
  try {
    annotations = read_coco_annotations(runs[0].annotations);
  } catch (const Error& e) {
    return "<p>No gallery: " + escape(e.what()) + "</p>";
  }
  std::string out = "<div class=\"gallery\">";
  size_t shown = 0;
  for (const std::string& id : annotations.image_ids) {
    const bool captioned = std::any_of(runs.begin(), runs.end(), [&](const RunStats& r) { return r.captions.count(id) != 0; });
    if (!captioned) continue;
    ++shown;
    const auto file = annotations.file_names.find(id);
    const std::string name = file != annotations.file_names.end() ? file->second : id;
    std::string url;
    for (const RunStats& r : runs) {
      if (url.empty() && file != annotations.file_names.end()) url = thumbnail(r.images_dir + "/" + name);
    }
    out += "<figure class=\"item\" data-image-id=\"" + escape(id) + "\">";
    out += url.empty() ? "<div class=\"missing\">" + escape(name) + "<br>(image not found)</div>"
                       : "<img src=\"" + url + "\" alt=\"" + escape(name) + "\" title=\"" + escape(name) + "\">";
    out += "<figcaption><div class=\"refs\"><b>References</b><ul>";
    const auto refs = annotations.captions.find(id);
    if (refs != annotations.captions.end()) {
      for (const std::string& ref : refs->second) out += "<li>" + escape(ref) + "</li>";
    }
    out += "</ul></div><table class=\"captions\">";
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto c = runs[i].captions.find(id);
      out += "<tr><th><span class=\"swatch\" style=\"background:" + std::string(color(i)) + "\"></span>" +
             escape(runs[i].model) + "</th><td>" + (c != runs[i].captions.end() ? escape(c->second) : "&mdash;") +
             "</td></tr>";
    }
    out += "</table></figcaption></figure>";
  }
  out += "</div>";
  if (shown == 0) return "<p>No captioned image to show.</p>";
  return out;
}

}  // namespace kantu::eval::html
