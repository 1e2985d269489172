// kantu preprocess -m DIR --image F [--min-pixels N] [--max-pixels N] [--out F.safetensors]
//   -> {"grid_thw":[t,h,w], "tokens":N, "resized":[h,w]}
// Decodes the image, runs the model's image preprocessing (smart_resize, Pillow-exact
// bicubic, normalize, patchify) and optionally writes pixel_values (f32 [N, patch_dim])
// and resized_rgb (u8 [h, w, 3]) to a safetensors file.
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/model_arg.h"
#include "core/error.h"
#include "core/json.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "formats/model_folder.h"
#include "formats/safetensors.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "models/model.h"

namespace kantu::cli {
namespace {

struct PreprocessOptions {
  std::string model_dir;
  std::string mmproj;
  std::string image;
  std::optional<int64_t> min_pixels;
  std::optional<int64_t> max_pixels;
  std::string out;
};

void run_preprocess(const PreprocessOptions& o) {
  ImagePreprocessConfig config =
      models::profile_of(ModelFolder::open_any(o.model_dir, o.mmproj, {.load_weights = false})).image;
  const bool qwen = config.kind == ImageProcessorKind::kQwenPatches;
  if (!qwen && (o.min_pixels || o.max_pixels)) {
    fail(ErrorKind::kInvalidArgument, "--min-pixels and --max-pixels apply to Qwen-VL processors; ",
         o.model_dir, " uses a CLIP-style processor with fixed tiles");
  }
  if (o.min_pixels) config.min_pixels = *o.min_pixels;
  if (o.max_pixels) config.max_pixels = *o.max_pixels;
  validate(config);
  Timer timer;
  const RgbImage rgb = decode_image_file(o.image);
  const double decode_ms = timer.ms();
  timer.reset();
  ThreadPool pool(0);
  const PreprocessedImage pre = preprocess_image(rgb, config, &pool);
  const double preprocess_ms = timer.ms();
  if (!o.out.empty()) {
    write_safetensors(
        o.out,
        {{"pixel_values", DType::kF32, pre.shape, pre.pixel_values.data()},
         {"resized_rgb", DType::kU8, {pre.resized.height, pre.resized.width, 3},
          pre.resized.pixels.data()}},
        {{"image", o.image}});
  }
  nlohmann::ordered_json out;
  if (qwen) {
    out["grid_thw"] = {pre.grid.t, pre.grid.h, pre.grid.w};
  } else {
    out["tiles"] = pre.grid.t;  // LLaVA-NeXT: the base image + the canvas's tiles
    out["pixel_values_shape"] = pre.shape;
  }
  out["tokens"] = pre.num_tokens;
  out["resized"] = {pre.resized.height, pre.resized.width};
  out["input"] = {rgb.height, rgb.width};
  out["decode_ms"] = decode_ms;
  out["preprocess_ms"] = preprocess_ms;
  std::cout << out.dump() << "\n";
}

}  // namespace

void add_preprocess_command(CLI::App& app) {
  auto opts = std::make_shared<PreprocessOptions>();
  auto* cmd = app.add_subcommand(
      "preprocess", "Decode an image and run the model's image preprocessing (prints the grid)");
  add_model_options(cmd, "-m,--model", &opts->model_dir, &opts->mmproj,
                    "Model folder (reads preprocessor_config.json) or GGUF model file")
      ->required();
  cmd->add_option("--image", opts->image, "Image file (JPEG, PNG, WebP, GIF or BMP)")->required();
  cmd->add_option("--min-pixels", opts->min_pixels, "Override the minimum pixel budget");
  cmd->add_option("--max-pixels", opts->max_pixels, "Override the maximum pixel budget");
  cmd->add_option("--out", opts->out,
                  "Write pixel_values (f32) and resized_rgb (u8) to this safetensors file");
  cmd->callback([opts] { run_preprocess(*opts); });
}

}  // namespace kantu::cli
