#include "formats/preprocessor_config.h"

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/json_fields.h"

namespace kantu {

std::array<float, 3> channel_values(const JsonFields& f, const std::string& key,
                                    std::array<float, 3> fallback, bool positive) {
  if (!f.has(key)) return fallback;
  std::array<float, 3> out{};
  const char* what = positive ? "a positive number or a list of 3 positive numbers"
                              : "a number or a list of 3 numbers";
  if (f.json().at(key).is_number()) {
    out.fill(static_cast<float>(f.number(key)));
  } else {
    if (!f.json().at(key).is_array()) f.wrong(key, what);
    const std::vector<double> v = f.number_list(key);
    if (v.size() != 3) f.wrong(key, what);
    for (int i = 0; i < 3; ++i) out[i] = static_cast<float>(v[i]);
  }
  for (float x : out) {
    if (positive && !(x > 0)) f.wrong(key, what);
  }
  return out;
}

namespace {

void parse_into(const JsonFields& f, PreprocessorConfig* p) {
  p->present = true;
  if (auto size = f.optional_object("size")) {
    // Qwen processors take only the pixel-count form of `size`.
    if (!size->has("shortest_edge") || !size->has("longest_edge")) {
      f.wrong("size", "an object with shortest_edge and longest_edge (pixel counts)");
    }
    p->min_pixels = size->positive_int("shortest_edge");
    p->max_pixels = size->positive_int("longest_edge");
  }
  // The older keys override `size`, as the reference processor does.
  p->min_pixels = f.positive_int("min_pixels", p->min_pixels);
  p->max_pixels = f.positive_int("max_pixels", p->max_pixels);
  if (p->min_pixels > p->max_pixels) {
    fail(ErrorKind::kCorrupt, f.file(), ": the minimum pixel count ", p->min_pixels,
         " is larger than the maximum ", p->max_pixels);
  }
  p->patch_size = f.positive_int("patch_size", p->patch_size);
  p->temporal_patch_size = f.positive_int("temporal_patch_size", p->temporal_patch_size);
  p->merge_size = f.positive_int("merge_size", p->merge_size);
  p->image_mean = channel_values(f, "image_mean", p->image_mean, false);
  p->image_std = channel_values(f, "image_std", p->image_std, true);
  p->rescale_factor = f.positive_number("rescale_factor", p->rescale_factor);
  p->do_resize = f.boolean("do_resize", p->do_resize);
  p->do_rescale = f.boolean("do_rescale", p->do_rescale);
  p->do_normalize = f.boolean("do_normalize", p->do_normalize);
  p->do_convert_rgb = f.boolean("do_convert_rgb", p->do_convert_rgb);
  p->resample = f.non_negative_int("resample", p->resample);
  if (p->resample > 5) f.wrong("resample", "a PIL resampling filter number 0..5");
  p->image_processor_type = f.string("image_processor_type", "");
}

}  // namespace

PreprocessorConfig parse_preprocessor_config(const Json& json, const std::string& file,
                                             const PreprocessorConfig& defaults) {
  PreprocessorConfig p = defaults;
  parse_into(JsonFields(json, file), &p);
  return p;
}

PreprocessorConfig parse_preprocessor_config(const Json& json, const std::string& file) {
  return parse_preprocessor_config(json, file, PreprocessorConfig{});
}

VideoPreprocessorConfig parse_video_preprocessor_config(const Json& json, const std::string& file) {
  JsonFields f(json, file);
  VideoPreprocessorConfig v;
  v.frames.min_pixels = 4096;
  v.frames.max_pixels = 25165824;
  parse_into(f, &v.frames);
  v.fps = f.positive_number("fps", v.fps);
  v.min_frames = f.positive_int("min_frames", v.min_frames);
  v.max_frames = f.positive_int("max_frames", v.max_frames);
  if (v.min_frames > v.max_frames) f.wrong("min_frames", "at most max_frames");
  v.do_sample_frames = f.boolean("do_sample_frames", v.do_sample_frames);
  return v;
}

PreprocessorConfig load_preprocessor_config(const std::string& dir) {
  const std::string path = dir + "/preprocessor_config.json";
  if (!file_exists(path)) return PreprocessorConfig{};
  return parse_preprocessor_config(read_json_file(path), path);
}

VideoPreprocessorConfig load_video_preprocessor_config(const std::string& dir) {
  const std::string path = dir + "/video_preprocessor_config.json";
  if (!file_exists(path)) {
    VideoPreprocessorConfig v;
    v.frames.min_pixels = 4096;
    v.frames.max_pixels = 25165824;
    return v;
  }
  return parse_video_preprocessor_config(read_json_file(path), path);
}

}  // namespace kantu
