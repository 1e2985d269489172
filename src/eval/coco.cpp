#include "eval/coco.h"

#include <set>

#include "core/error.h"

namespace kantu::eval {

std::string image_id_key(const Json& id, const std::string& what) {
  if (id.is_number_integer()) return std::to_string(id.get<long long>());
  if (id.is_number_unsigned()) return std::to_string(id.get<unsigned long long>());
  if (id.is_string() && !id.get<std::string>().empty()) return id.get<std::string>();
  fail(ErrorKind::kCorrupt, what, ": image_id must be an integer or a non-empty string, got ",
       id.dump());
}

CocoAnnotations parse_coco_annotations(const Json& json, const std::string& path) {
  CocoAnnotations out;
  out.path = path;
  if (!json.is_object() || !json.contains("annotations") || !json.at("annotations").is_array())
    fail(ErrorKind::kCorrupt, path, ": not a COCO caption file (no \"annotations\" list)");
  std::set<std::string> listed;
  if (json.contains("images")) {
    if (!json.at("images").is_array()) fail(ErrorKind::kCorrupt, path, ": \"images\" is not a list");
    size_t i = 0;
    for (const Json& img : json.at("images")) {
      std::string where = cat(path, ": images[", i++, "]");
      if (!img.is_object() || !img.contains("id")) fail(ErrorKind::kCorrupt, where, ": missing \"id\"");
      std::string id = image_id_key(img.at("id"), where);
      if (img.contains("file_name")) {
        if (!img.at("file_name").is_string())
          fail(ErrorKind::kCorrupt, where, ": \"file_name\" is not a string");
        out.file_names[id] = img.at("file_name").get<std::string>();
      }
      if (listed.insert(id).second) out.image_ids.push_back(id);
    }
  }
  size_t i = 0;
  for (const Json& a : json.at("annotations")) {
    std::string where = cat(path, ": annotations[", i++, "]");
    if (!a.is_object() || !a.contains("image_id"))
      fail(ErrorKind::kCorrupt, where, ": missing \"image_id\"");
    if (!a.contains("caption") || !a.at("caption").is_string())
      fail(ErrorKind::kCorrupt, where, ": missing or non-string \"caption\"");
    std::string id = image_id_key(a.at("image_id"), where);
    auto& caps = out.captions[id];
    if (caps.empty() && !listed.count(id)) {
      listed.insert(id);
      out.image_ids.push_back(id);
    }
    caps.push_back(a.at("caption").get<std::string>());
  }
  if (out.captions.empty()) fail(ErrorKind::kCorrupt, path, ": no annotations");
  return out;
}

CocoAnnotations read_coco_annotations(const std::string& path) {
  return parse_coco_annotations(read_json_file(path), path);
}

std::vector<CaptionResult> parse_coco_results(const Json& json, const std::string& path,
                                              const CocoAnnotations& annotations) {
  if (!json.is_array()) fail(ErrorKind::kCorrupt, path, ": results must be a JSON list");
  if (json.empty()) fail(ErrorKind::kInvalidArgument, path, ": no results to score (empty list)");
  std::vector<CaptionResult> out;
  std::set<std::string> seen;
  size_t i = 0;
  for (const Json& r : json) {
    std::string where = cat(path, ": [", i++, "]");
    if (!r.is_object() || !r.contains("image_id"))
      fail(ErrorKind::kCorrupt, where, ": missing \"image_id\"");
    if (!r.contains("caption") || !r.at("caption").is_string())
      fail(ErrorKind::kCorrupt, where, ": missing or non-string \"caption\"");
    std::string id = image_id_key(r.at("image_id"), where);
    if (!annotations.captions.count(id))
      fail(ErrorKind::kInvalidArgument, where, ": image ", id, " has no annotation in ",
           annotations.path);
    if (!seen.insert(id).second)
      fail(ErrorKind::kInvalidArgument, where, ": a second result for image ", id,
           " (each image needs exactly one caption)");
    out.push_back({id, r.at("caption").get<std::string>()});
  }
  return out;
}

std::vector<CaptionResult> read_coco_results(const std::string& path,
                                             const CocoAnnotations& annotations) {
  return parse_coco_results(read_json_file(path), path, annotations);
}

Json results_to_json(const std::vector<CaptionResult>& results) {
  Json out = Json::array();
  for (const CaptionResult& r : results) {
    Json id = r.image_id;
    bool digits = !r.image_id.empty() && r.image_id.size() < 18 &&
                  r.image_id.find_first_not_of("0123456789") == std::string::npos &&
                  (r.image_id == "0" || r.image_id[0] != '0');
    if (digits) id = std::stoll(r.image_id);
    out.push_back({{"image_id", id}, {"caption", r.caption}});
  }
  return out;
}

}  // namespace kantu::eval
