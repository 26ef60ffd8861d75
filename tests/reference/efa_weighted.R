# Reference values for efa(..., weights=) in factor.py: psych::fa with case weights.
# Run from the repository root:  Rscript tests/reference/efa_weighted.R
# Data: lavaan::HolzingerSwineford1939 (x1..x9, complete) with deterministic weights
#   w = 0.5 + (id mod 7) / 4, written beside this script as efa_weighted.csv.
# psych::fa(x, nfactors = 3, fm, rotate, weight = w) uses cov.wt(x, wt = w, cor = TRUE)$cor.
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
h <- lavaan::HolzingerSwineford1939  # the classic public dataset, as shipped with lavaan
d <- data.frame(h[, paste0("x", 1:9)], w = 0.5 + (h$id %% 7) / 4)
write.csv(d, "tests/reference/efa_weighted.csv", row.names = FALSE)
x <- d[, paste0("x", 1:9)]
num <- function(m) apply(m, c(1, 2), function(v) sprintf("%.17g", v))
out <- list()
for (fm in c("minres", "ml")) for (rot in c("none", "oblimin")) {
  f <- psych::fa(x, nfactors = 3, fm = fm, rotate = rot, weight = d$w)
  L <- unclass(f$loadings)
  out[[paste(fm, rot, sep = "_")]] <- list(
    call = sprintf("psych::fa(x, nfactors = 3, fm = '%s', rotate = '%s', weight = w)", fm, rot),
    loadings = split(num(L), row(L)), items = rownames(L), factors = colnames(L),
    uniquenesses = sprintf("%.17g", f$uniquenesses))
}
wcor <- cov.wt(x, wt = d$w, cor = TRUE)$cor
res <- list(generated_by = "tests/reference/efa_weighted.R",
            versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                            GPArotation = as.character(packageVersion("GPArotation")),
                            jsonlite = as.character(packageVersion("jsonlite"))),
            note = "numbers are strings written with %.17g",
            weighted_cor = split(num(wcor), row(wcor)), fits = out)
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE), "tests/reference/efa_weighted.json")
