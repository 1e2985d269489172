// Where a Qwen-VL chat ends when a checkpoint names no eos anywhere: the ChatML turn end
// <|im_end|> (151645) and <|endoftext|> (151643), the ids every Qwen2/2.5/3-VL vocabulary
// gives them and the released generation_config.json files list.
#pragma once

#include <cstdint>
#include <vector>

namespace kantu::models {

inline const std::vector<int64_t> kQwenEndOfTurnIds = {151645, 151643};

}  // namespace kantu::models
