# Reference values for design-based (survey-weighted) group comparisons in compare.py.
# Run from the repository root:  Rscript tests/reference/compare_weighted.R
# Data: tests/reference/compare_drivers.csv (written by compare_drivers.R), weight column w.
# Design: svydesign(ids = ~1, weights = ~w) (weights only, with replacement).
#   two groups:  svyttest(y ~ g, design)                       (t on degf(design) - 1 df)
#   k groups:    regTermTest(svyglm(y ~ g, design), ~g, method = "Wald")  (F on k-1, df.residual)
#   weighted group means: svyby(~y, ~g, design, svymean)
suppressPackageStartupMessages({library(survey); library(jsonlite)})
d <- read.csv("tests/reference/compare_drivers.csv", stringsAsFactors = FALSE)
num <- function(x) sprintf("%.17g", x)
cases <- list(
  list(id = "y_by_gender", y = "y", g = "gender", levels = c("male", "female")),
  list(id = "x2_by_resident", y = "x2", g = "resident", levels = NULL),
  list(id = "y_by_edu", y = "y", g = "edu", levels = NULL),
  list(id = "x1_by_edu", y = "x1", g = "edu", levels = NULL)
)
out <- list()
for (cs in cases) {
  dd <- d[!is.na(d[[cs$y]]) & !is.na(d[[cs$g]]) & d[[cs$g]] != "", ]
  if (is.null(cs$levels)) cs$levels <- sort(unique(dd[[cs$g]]))
  dd$g <- factor(dd[[cs$g]], levels = cs$levels)
  dd$yy <- dd[[cs$y]]
  des <- svydesign(ids = ~1, weights = ~w, data = dd)
  means <- svyby(~yy, ~g, des, svymean)
  fit <- svyglm(yy ~ g, design = des)
  rec <- list(outcome = cs$y, group = cs$g, levels = cs$levels, n = nrow(dd),
              means = setNames(as.list(num(coef(means))), cs$levels),
              mean_se = setNames(as.list(num(SE(means))), cs$levels),
              coef = as.list(num(coef(fit))), vcov = num(as.vector(vcov(fit))),
              df_residual = fit$df.residual)
  if (length(cs$levels) == 2) {
    tt <- svyttest(yy ~ g, design = des)
    rec$t <- num(unname(tt$statistic)); rec$df <- num(unname(tt$parameter))
    rec$p <- num(tt$p.value); rec$estimate <- num(unname(tt$estimate))
    rec$call <- "svyttest(yy ~ g, design = svydesign(ids = ~1, weights = ~w, data))"
  }
  wt <- regTermTest(fit, ~g, method = "Wald")
  rec$F <- num(unname(wt$Ftest)); rec$df1 <- wt$df; rec$df2 <- wt$ddf; rec$pF <- num(unname(wt$p))
  rec$wald_call <- "regTermTest(svyglm(yy ~ g, design), ~g, method = 'Wald')"
  out[[cs$id]] <- rec
}
res <- list(generated_by = "tests/reference/compare_weighted.R",
            versions = list(R = R.version.string, survey = as.character(packageVersion("survey")),
                            jsonlite = as.character(packageVersion("jsonlite"))),
            note = "numbers are strings written with %.17g; parse with float()",
            cases = out)
writeLines(toJSON(res, auto_unbox = TRUE, pretty = TRUE), "tests/reference/compare_weighted.json")
