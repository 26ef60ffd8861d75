# Reference values for servicestudy.correlation.correlation_table on psych::bfi items with
# missing values (reliability_bfi.csv, written by reliability.R): means, SDs, pairwise n,
# r, t, p and Fisher-z CIs from psych::corr.test (Pearson and Spearman) and stats::cor.test
# (Pearson; Spearman p-values of cor.test use a different approximation and are not stored).
# Run: Rscript tests/reference/correlation.R   (from the repository root)
suppressPackageStartupMessages({library(psych); library(jsonlite)})
out_dir <- "tests/reference"
d <- read.csv(file.path(out_dir, "reliability_bfi.csv"))
vars <- c("A1", "A2", "C1", "C2", "N1", "N2")
x <- d[, vars]
res <- list(data_file = "reliability_bfi.csv", variables = vars,
            versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            jsonlite = as.character(packageVersion("jsonlite"))),
            call = "psych::corr.test(x, use = 'pairwise', method = m, adjust = 'none', alpha = .05); cor.test(x[[i]], x[[j]])",
            descriptives = lapply(setNames(vars, vars), function(v)
              list(mean = mean(x[[v]], na.rm = TRUE), sd = sd(x[[v]], na.rm = TRUE), n = sum(!is.na(x[[v]])))),
            methods = list())
for (m in c("pearson", "spearman")) {
  ct <- psych::corr.test(x, use = "pairwise", method = m, adjust = "none", alpha = .05)
  pairs <- list()
  for (j in seq_along(vars)) for (i in seq_along(vars)) if (i > j) {
    a <- vars[i]; b <- vars[j]
    p <- list(var1 = a, var2 = b, r = ct$r[a, b], n = ct$n[a, b], t = ct$t[a, b], p = ct$p[a, b])
    ci <- ct$ci[paste(substr(b, 1, 4), substr(a, 1, 4), sep = "-"), ]
    p$ci_low <- ci$lower; p$ci_high <- ci$upper
    if (m == "pearson") {
      tt <- cor.test(x[[a]], x[[b]])
      p$cor_test <- list(r = unname(tt$estimate), t = unname(tt$statistic), df = unname(tt$parameter),
                         p = tt$p.value, ci_low = tt$conf.int[1], ci_high = tt$conf.int[2])
    }
    pairs[[length(pairs) + 1]] <- p
  }
  res$methods[[m]] <- pairs
}
full <- function(x) if (is.list(x)) lapply(x, full) else
  if (is.numeric(x) && length(x) == 1 && is.finite(x)) structure(sprintf("%.17g", x), class = "json") else x
writeLines(toJSON(full(res), auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE, na = "null"),
           file.path(out_dir, "correlation.json"))
