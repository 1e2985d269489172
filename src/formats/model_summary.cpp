#include "formats/model_summary.h"

#include <sys/stat.h>

#include "formats/model_family.h"

namespace kantu {

TextSizes read_text_sizes(const ModelFolder& model) {
  return family_size_readers(model.family()).text(model.config(), model.config_path());
}

std::optional<VisionSizes> read_vision_sizes(const ModelFolder& model) {
  if (!model.has_vision()) return std::nullopt;
  return family_size_readers(model.family()).vision(model.config(), model.config_path());
}

WeightStats weight_stats(const WeightStore& weights) {
  WeightStats s;
  for (size_t i = 0; i < weights.files().size(); ++i) {
    WeightFileStats file;
    file.path = weights.files()[i];
    struct stat st {};
    if (::stat(file.path.c_str(), &st) == 0) file.file_bytes = static_cast<uint64_t>(st.st_size);
    file.tensors = static_cast<int64_t>(weights.tensor_count(i));
    s.files.push_back(file);
  }
  for (const auto& [name, view] : weights.tensors()) {
    DTypeStats& d = s.dtypes[dtype_name(view->dtype)];
    d.tensors += 1;
    d.parameters += view->numel();
    d.bytes += view->nbytes;
    s.tensor_count += 1;
    s.parameter_count += view->numel();
    s.total_bytes += view->nbytes;
  }
  return s;
}

}  // namespace kantu
