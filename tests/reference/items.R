# Reference values for servicestudy.items.item_analysis: psych::bfi scales A (A1 reversed),
# C (C4, C5 reversed) and N on their complete rows (the data file reliability_bfi.csv written
# by reliability.R). Critical ratio: extreme groups at the 27% / 73% quantiles (type 6) of the
# total score, ties included; t.test Student and Welch. r.drop and alpha.drop from psych::alpha.
# Run: Rscript tests/reference/items.R   (from the repository root)
suppressPackageStartupMessages({library(psych); library(jsonlite)})
out_dir <- "tests/reference"
d <- read.csv(file.path(out_dir, "reliability_bfi.csv"))
scales <- list(A = paste0("A", 1:5), C = paste0("C", 1:5), N = paste0("N", 1:5))
res <- list(data_file = "reliability_bfi.csv",
            versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            jsonlite = as.character(packageVersion("jsonlite"))),
            call = paste("x <- x[complete.cases(x), ]; T <- rowSums(x);",
                         "q <- quantile(T, c(.27, .73), type = 6); lo <- T <= q[1]; hi <- T >= q[2];",
                         "t.test(x[hi, j], x[lo, j], var.equal = TRUE / FALSE); psych::alpha(x)"),
            scales = list())
for (s in names(scales)) {
  x <- d[, scales[[s]]]
  x <- x[complete.cases(x), ]
  tot <- rowSums(x)
  q <- quantile(tot, c(.27, .73), type = 6, names = FALSE)
  lo <- tot <= q[1]; hi <- tot >= q[2]
  a <- psych::alpha(x, check.keys = FALSE)
  items <- list()
  for (j in names(x)) {
    st <- t.test(x[hi, j], x[lo, j], var.equal = TRUE)
    we <- t.test(x[hi, j], x[lo, j], var.equal = FALSE)
    items[[j]] <- list(mean = mean(x[[j]]), sd = sd(x[[j]]),
                       mean_high = mean(x[hi, j]), mean_low = mean(x[lo, j]),
                       t_student = unname(st$statistic), df_student = unname(st$parameter),
                       p_student = st$p.value,
                       t_welch = unname(we$statistic), df_welch = unname(we$parameter),
                       p_welch = we$p.value,
                       r_drop = a$item.stats[j, "r.drop"],
                       alpha_if_deleted = a$alpha.drop[j, "raw_alpha"])
  }
  res$scales[[s]] <- list(items = scales[[s]], n = nrow(x), cut_low = q[1], cut_high = q[2],
                          n_low = sum(lo), n_high = sum(hi),
                          alpha = a$total$raw_alpha, item = items)
}
# numbers written as %.17g (jsonlite itself stops at 15 significant digits)
full <- function(x) if (is.list(x)) lapply(x, full) else
  if (is.numeric(x) && length(x) == 1 && is.finite(x)) structure(sprintf("%.17g", x), class = "json") else x
writeLines(toJSON(full(res), auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, na = "null"),
           file.path(out_dir, "items.json"))
