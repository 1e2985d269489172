#include "formats/clip_preprocessor_config.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/json_fields.h"
#include "formats/preprocessor_config.h"

namespace kantu {

namespace {

// LlavaNextImageProcessor's default image_grid_pinpoints.
const std::vector<std::array<int64_t, 2>> kDefaultPinpoints = {
    {336, 672}, {672, 336}, {672, 672}, {1008, 336}, {336, 1008}};

constexpr int64_t kMaxSide = 1 << 14;  // larger sizes are a broken file, not a processor

int64_t side(const JsonFields& f, const std::string& key) {
  const int64_t v = f.positive_int(key);
  if (v > kMaxSide) f.wrong(key, "at most 16384");
  return v;
}

}  // namespace

std::vector<std::array<int64_t, 2>> parse_image_grid_pinpoints(const JsonFields& f) {
  if (!f.has("image_grid_pinpoints")) return kDefaultPinpoints;
  const Json& list = f.json().at("image_grid_pinpoints");
  const char* what = "a list of [height, width] pairs of positive integers";
  if (!list.is_array() || list.empty() || list.size() > 1024) f.wrong("image_grid_pinpoints", what);
  std::vector<std::array<int64_t, 2>> out;
  for (const Json& p : list) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number_integer() ||
        p[0].get<int64_t>() < 1 || p[1].get<int64_t>() < 1 || p[0].get<int64_t>() > kMaxSide ||
        p[1].get<int64_t>() > kMaxSide) {
      f.wrong("image_grid_pinpoints", what);
    }
    out.push_back({p[0].get<int64_t>(), p[1].get<int64_t>()});
  }
  return out;
}

ClipPreprocessorConfig parse_clip_preprocessor_config(const Json& json, const std::string& file,
                                                      bool anyres) {
  const JsonFields f(json, file);
  ClipPreprocessorConfig c;
  c.present = true;
  c.image_processor_type = f.string("image_processor_type", "");
  if (f.has("size")) {
    if (f.json().at("size").is_number_integer()) {  // get_size_dict(int): the shortest edge
      c.shortest_edge = f.positive_int("size");
    } else {
      const JsonFields size = f.object("size");
      if (size.has("shortest_edge")) {
        c.shortest_edge = side(size, "shortest_edge");
      } else if (size.has("height") && size.has("width")) {
        c.size_height = side(size, "height");
        c.size_width = side(size, "width");
      } else {
        f.wrong("size", "{\"shortest_edge\": n} or {\"height\": h, \"width\": w}");
      }
    }
  }
  if (f.has("crop_size")) {
    if (f.json().at("crop_size").is_number_integer()) {
      c.crop_height = c.crop_width = f.positive_int("crop_size");
    } else {
      const JsonFields crop = f.object("crop_size");
      c.crop_height = side(crop, "height");
      c.crop_width = side(crop, "width");
    }
  }
  c.do_resize = f.boolean("do_resize", c.do_resize);
  c.do_center_crop = f.boolean("do_center_crop", c.do_center_crop);
  c.do_rescale = f.boolean("do_rescale", c.do_rescale);
  c.do_normalize = f.boolean("do_normalize", c.do_normalize);
  c.do_convert_rgb = f.boolean("do_convert_rgb", c.do_convert_rgb);
  c.do_pad = f.boolean("do_pad", c.do_pad);
  c.rescale_factor = f.positive_number("rescale_factor", c.rescale_factor);
  c.image_mean = channel_values(f, "image_mean", c.image_mean, false);
  c.image_std = channel_values(f, "image_std", c.image_std, true);
  c.resample = f.non_negative_int("resample", c.resample);
  if (c.resample != 3) {
    fail(ErrorKind::kUnsupported, file, ": resample ", c.resample,
         " is not supported (kantu resamples with Pillow's bicubic, 3)");
  }
  if (anyres) c.image_grid_pinpoints = parse_image_grid_pinpoints(f);
  return c;
}

ClipPreprocessorConfig load_clip_preprocessor_config(const std::string& dir, bool anyres) {
  const std::string path = dir + "/preprocessor_config.json";
  if (!file_exists(path)) {
    ClipPreprocessorConfig c;
    if (anyres) c.image_grid_pinpoints = kDefaultPinpoints;
    return c;
  }
  return parse_clip_preprocessor_config(read_json_file(path), path, anyres);
}

}  // namespace kantu
