# Reference values for servicestudy.weighting (tests/test_weighting.py).
# Generates a small deterministic dataset, rakes it to population margins with survey::rake,
# and stores the raked weights, svymean estimates and SEs (weights-only design and the raked,
# calibrated design), domain means (svyby) and cov.wt, at full precision.
# Run from the repository root: Rscript tests/reference/weighting.R
suppressPackageStartupMessages(library(survey))
library(jsonlite)
set.seed(20261128)
n <- 300
gender <- sample(c("Male", "Female"), n, replace = TRUE, prob = c(0.6, 0.4))
age_group <- sample(c("18-29", "30-39", "40-49", "50-59", "60+"), n, replace = TRUE,
                    prob = c(0.35, 0.25, 0.2, 0.12, 0.08))
residence <- sample(c("Local", "Non-local"), n, replace = TRUE, prob = c(0.45, 0.55))
y <- pmin(5, pmax(1, round(3 + 0.5 * (gender == "Female") + 0.3 * (age_group == "60+") +
                             rnorm(n))))
y[sample(n, 15)] <- NA  # some missing answers
z <- rnorm(n, 10 + 2 * (residence == "Local"), 3)
sat <- factor(sample(c("low", "mid", "high"), n, replace = TRUE), levels = c("low", "mid", "high"))
dat <- data.frame(gender, age_group, residence, y, z, sat)
write.csv(dat, "tests/reference/weighting.csv", row.names = FALSE, na = "")

margins <- list(
  gender = c(Male = 0.49, Female = 0.51),
  age_group = c(`18-29` = 0.2, `30-39` = 0.22, `40-49` = 0.2, `50-59` = 0.18, `60+` = 0.2),
  residence = c(Local = 0.6, `Non-local` = 0.4)
)
marg_df <- do.call(rbind, lapply(names(margins), function(v)
  data.frame(variable = v, category = names(margins[[v]]), proportion = unname(margins[[v]]))))
write.csv(marg_df, "tests/reference/weighting_margins.csv", row.names = FALSE)

d0 <- svydesign(ids = ~1, weights = ~1, data = transform(dat, one = 1))
pop <- lapply(names(margins), function(v) {
  df <- data.frame(names(margins[[v]]), margins[[v]] * n)
  names(df) <- c(v, "Freq")
  df
})
raked <- rake(d0, list(~gender, ~age_group, ~residence), pop,
              control = list(maxit = 1000, epsilon = 1e-13))
w <- weights(raked)
dat$w <- w
dw <- svydesign(ids = ~1, weights = ~w, data = dat)

stat <- function(s) list(estimate = unname(coef(s)), std_error = unname(SE(s)), names = names(coef(s)))
byres <- function(formula, design) {
  b <- svyby(formula, ~gender, design, svymean, na.rm = TRUE)
  list(groups = as.character(b$gender), estimate = unname(coef(b)), std_error = unname(SE(b)))
}
cw <- cov.wt(as.matrix(dat[!is.na(dat$y), c("y", "z")]), wt = w[!is.na(dat$y)] / sum(w[!is.na(dat$y)]))
cw_ml <- cov.wt(as.matrix(dat[!is.na(dat$y), c("y", "z")]), wt = w[!is.na(dat$y)] / sum(w[!is.na(dat$y)]), method = "ML")

out <- list(
  R_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  calls = c(
    "d0 <- svydesign(ids = ~1, weights = ~1, data = dat)",
    "raked <- rake(d0, list(~gender, ~age_group, ~residence), pop (proportion * n), control = list(maxit = 1000, epsilon = 1e-13))",
    "dw <- svydesign(ids = ~1, weights = ~w, data = dat)  # weights-only design, w = weights(raked)",
    "svymean(~y, dw, na.rm = TRUE); svymean(~z, dw); svymean(~sat, dw)",
    "svymean(~y, raked, na.rm = TRUE); svymean(~z, raked); svymean(~sat, raked)",
    "svyby(~z, ~gender, dw/raked, svymean, na.rm = TRUE)",
    "cov.wt(cbind(y, z)[complete, ], wt = w / sum(w)) and method = 'ML'"
  ),
  weights = unname(w),
  weights_only = list(y = stat(svymean(~y, dw, na.rm = TRUE)), z = stat(svymean(~z, dw)),
                      sat = stat(svymean(~sat, dw)), z_by_gender = byres(~z, dw),
                      y_by_gender = byres(~y, dw)),
  calibrated = list(y = stat(svymean(~y, raked, na.rm = TRUE)), z = stat(svymean(~z, raked)),
                    sat = stat(svymean(~sat, raked)), z_by_gender = byres(~z, raked),
                    y_by_gender = byres(~y, raked)),
  cov_wt = list(unbiased = unname(as.vector(cw$cov)), ml = unname(as.vector(cw_ml$cov)),
                center = unname(cw$center))
)
write_json(out, "tests/reference/weighting.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
