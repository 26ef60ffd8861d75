# Reference values for servicestudy.validity (cfa, composite reliability, AVE, HTMT).
# Run from the repository root:  Rscript tests/reference/validity.R
# Writes tests/reference/validity.json, validity_missing.csv, validity_heywood.csv and
# validity_npd.csv and validity_lvneg.csv.
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
out_dir <- "tests/reference"

## ---- data set 1: three correlated factors, continuous items, ~ MAR missing values ----
set.seed(20251128)
n <- 400
Phi <- matrix(c(1, .5, .3,
                .5, 1, .4,
                .3, .4, 1), 3)
eta <- MASS::mvrnorm(n, rep(0, 3), Phi)
lam <- list(A = c(.8, .7, .6, .75), B = c(.7, .65, .55), C = c(.6, .7, .8, .5, .65))
X <- NULL
for (k in 1:3) {
  l <- lam[[k]]
  x <- sapply(seq_along(l), function(j) 3 + 0.9 * (l[j] * eta[, k] + sqrt(1 - l[j]^2) * rnorm(n)))
  colnames(x) <- paste0(names(lam)[k], seq_along(l))
  X <- cbind(X, x)
}
X <- round(X, 4)
# MAR-ish: the probability that an item is missing rises with A1 (which is always observed)
for (j in 2:ncol(X)) {
  p_miss <- plogis(-3.2 + 0.8 * (X[, "A1"] - 3))
  X[runif(n) < p_miss, j] <- NA
}
dat <- as.data.frame(X)
write.csv(dat, file.path(out_dir, "validity_missing.csv"), row.names = FALSE, na = "")
back <- read.csv(file.path(out_dir, "validity_missing.csv"))
stopifnot(isTRUE(all.equal(back, dat, tolerance = 0)))

model <- "
A =~ A1 + A2 + A3 + A4
B =~ B1 + B2 + B3
C =~ C1 + C2 + C3 + C4 + C5
"
scales <- list(A = paste0("A", 1:4), B = paste0("B", 1:3), C = paste0("C", 1:5))

## ---- data set 2: a Heywood case (negative residual variance) ----
heywood <- NULL
for (seed in 1:500) {
  set.seed(seed)
  m <- 60
  e2 <- MASS::mvrnorm(m, c(0, 0), matrix(c(1, .6, .6, 1), 2))
  l2 <- c(.97, .5, .45, .6, .55, .5)
  x2 <- cbind(sapply(1:3, function(j) l2[j] * e2[, 1] + sqrt(1 - l2[j]^2) * rnorm(m)),
              sapply(4:6, function(j) l2[j] * e2[, 2] + sqrt(1 - l2[j]^2) * rnorm(m)))
  x2 <- round(x2, 4)
  colnames(x2) <- c("h1", "h2", "h3", "k1", "k2", "k3")
  d2 <- as.data.frame(x2)
  w <- NULL
  fit2 <- withCallingHandlers(
    cfa("H =~ h1 + h2 + h3\nK =~ k1 + k2 + k3", d2),
    warning = function(wn) { w <<- c(w, conditionMessage(wn)); invokeRestart("muffleWarning") })
  th <- lavInspect(fit2, "est")$theta
  if (lavInspect(fit2, "converged") && any(diag(th) < 0)) {
    heywood <- list(seed = seed, data = d2, fit = fit2, warnings = w)
    break
  }
}
stopifnot(!is.null(heywood))
write.csv(heywood$data, file.path(out_dir, "validity_heywood.csv"), row.names = FALSE)
backh <- read.csv(file.path(out_dir, "validity_heywood.csv"))
stopifnot(isTRUE(all.equal(backh, heywood$data, tolerance = 0)))

## ---- data set 3: latent covariance matrix not positive definite (|r| > 1) ----
npd <- NULL
for (seed in 1:500) {
  set.seed(1000 + seed)
  m <- 80
  e3 <- MASS::mvrnorm(m, c(0, 0), matrix(c(1, .97, .97, 1), 2))
  l3 <- c(.7, .6, .65, .7, .6, .65)
  x3 <- cbind(sapply(1:3, function(j) l3[j] * e3[, 1] + sqrt(1 - l3[j]^2) * rnorm(m)),
              sapply(4:6, function(j) l3[j] * e3[, 2] + sqrt(1 - l3[j]^2) * rnorm(m)))
  x3 <- round(x3, 4)
  colnames(x3) <- c("u1", "u2", "u3", "v1", "v2", "v3")
  d3 <- as.data.frame(x3)
  w <- NULL
  fit3 <- withCallingHandlers(
    cfa("U =~ u1 + u2 + u3\nV =~ v1 + v2 + v3", d3),
    warning = function(wn) { w <<- c(w, conditionMessage(wn)); invokeRestart("muffleWarning") })
  if (lavInspect(fit3, "converged") && min(eigen(lavInspect(fit3, "cov.lv"))$values) < 0 &&
      all(diag(lavInspect(fit3, "est")$theta) > 0)) {
    npd <- list(seed = 1000 + seed, data = d3, fit = fit3, warnings = w)
    break
  }
}
stopifnot(!is.null(npd))
write.csv(npd$data, file.path(out_dir, "validity_npd.csv"), row.names = FALSE)
backn <- read.csv(file.path(out_dir, "validity_npd.csv"))
stopifnot(isTRUE(all.equal(backn, npd$data, tolerance = 0)))

## ---- data set 4: a negative factor variance (lavaan: "some estimated lv variances are negative")
lvneg <- NULL
for (seed in 1:400) {
  set.seed(seed)
  m <- 100
  e4 <- MASS::mvrnorm(m, c(0, 0), matrix(c(1, .3, .3, 1), 2))
  l4 <- c(.7, .6, .65, .25, .2, .15)
  x4 <- cbind(sapply(1:3, function(j) l4[j] * e4[, 1] + sqrt(1 - l4[j]^2) * rnorm(m)),
              sapply(4:6, function(j) l4[j] * e4[, 2] + sqrt(1 - l4[j]^2) * rnorm(m)))
  x4 <- round(x4, 4)
  colnames(x4) <- c("a1", "a2", "a3", "b1", "b2", "b3")
  d4 <- as.data.frame(x4)
  w <- NULL
  fit4 <- withCallingHandlers(
    cfa("A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3", d4),
    warning = function(wn) { w <<- c(w, conditionMessage(wn)); invokeRestart("muffleWarning") })
  if (lavInspect(fit4, "converged") && lavInspect(fit4, "cov.lv")["B", "B"] < 0) {
    lvneg <- list(seed = seed, data = d4, fit = fit4, warnings = w)
    break
  }
}
stopifnot(!is.null(lvneg))
write.csv(lvneg$data, file.path(out_dir, "validity_lvneg.csv"), row.names = FALSE)
backl <- read.csv(file.path(out_dir, "validity_lvneg.csv"))
stopifnot(isTRUE(all.equal(backl, lvneg$data, tolerance = 0)))

## ---- helpers ----
fm_names <- c("npar", "ntotal", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
              "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue", "srmr", "logl",
              "unrestricted.logl", "aic", "bic", "baseline.chisq", "baseline.df")

block <- function(fit, call) {
  pe <- parameterEstimates(fit)
  ss <- standardizedSolution(fit)
  key <- function(d) paste(d$lhs, d$op, d$rhs)
  ss <- ss[match(key(pe), key(ss)), ]
  params <- lapply(seq_len(nrow(pe)), function(i) list(
    lhs = pe$lhs[i], op = pe$op[i], rhs = pe$rhs[i], est = pe$est[i], se = pe$se[i],
    z = pe$z[i], pvalue = pe$pvalue[i], std_all = ss$est.std[i], std_all_se = ss$se[i]))
  est <- lavInspect(fit, "est")
  lam_std <- lavInspect(fit, "std")$lambda
  cr <- list(); 
  for (f in colnames(lam_std)) {
    l <- lam_std[lam_std[, f] != 0, f]
    cr[[f]] <- list(CR = sum(l)^2 / (sum(l)^2 + sum(1 - l^2)), AVE = sum(l^2) / length(l),
                    k = length(l))
  }
  list(
    call = call,
    nobs = lavInspect(fit, "nobs"),
    converged = lavInspect(fit, "converged"),
    options = lavInspect(fit, "options")[c("estimator", "likelihood", "information", "se",
                                            "missing", "meanstructure")],
    fit_measures = as.list(fitMeasures(fit, fm_names)),
    parameters = params,
    theta_diag = as.list(diag(est$theta)),
    composite_reliability_formula = cr,
    semTools = list(compRelSEM = as.list(compRelSEM(fit)), AVE = as.list(AVE(fit)),
                    compRelSEM_call = "semTools::compRelSEM(fit)", AVE_call = "semTools::AVE(fit)")
  )
}

capture <- function(expr) {
  w <- NULL
  val <- withCallingHandlers(expr, warning = function(wn) {
    w <<- c(w, conditionMessage(wn)); invokeRestart("muffleWarning") })
  list(value = val, warnings = if (is.null(w)) character(0) else unique(w))
}

fl <- capture(cfa(model, dat))
ff <- capture(cfa(model, dat, missing = "ml"))
b_list <- block(fl$value, "lavaan::cfa(model, dat)")
b_list$warnings <- fl$warnings
b_fiml <- block(ff$value, "lavaan::cfa(model, dat, missing = \"ml\")")
b_fiml$warnings <- ff$warnings
b_hey <- block(heywood$fit, "lavaan::cfa('H =~ h1 + h2 + h3\\nK =~ k1 + k2 + k3', heywood)")
b_hey$warnings <- if (is.null(heywood$warnings)) character(0) else unique(heywood$warnings)
b_hey$seed <- heywood$seed
b_npd <- block(npd$fit, "lavaan::cfa('U =~ u1 + u2 + u3\\nV =~ v1 + v2 + v3', npd)")
b_npd$warnings <- if (is.null(npd$warnings)) character(0) else unique(npd$warnings)
b_npd$seed <- npd$seed
b_lvneg <- block(lvneg$fit, "lavaan::cfa('A =~ a1 + a2 + a3\\nB =~ b1 + b2 + b3', lvneg)")
b_lvneg$warnings <- if (is.null(lvneg$warnings)) character(0) else unique(lvneg$warnings)
b_lvneg$seed <- lvneg$seed

## HTMT on listwise-complete rows
cc <- na.omit(dat)
R <- cor(cc)
htmt_manual <- function(R, scales, geo = FALSE, absolute = FALSE) {
  k <- length(scales); H <- matrix(1, k, k, dimnames = list(names(scales), names(scales)))
  agg <- function(v) if (geo) exp(mean(log(abs(v)))) else if (absolute) mean(abs(v)) else mean(v)
  mono <- sapply(scales, function(s) { r <- R[s, s]; agg(r[lower.tri(r)]) })
  for (i in 1:k) for (j in 1:k) if (i != j)
    H[i, j] <- agg(R[scales[[i]], scales[[j]]]) / sqrt(mono[i] * mono[j])
  H
}
mat <- function(M) lapply(setNames(rownames(M), rownames(M)), function(r) as.list(M[r, ]))
ht <- list(
  n_complete = nrow(cc),
  correlation_used = "Pearson on listwise-complete rows of the indicators",
  henseler2015_manual = mat(htmt_manual(R, scales)),
  htmt2_manual = mat(htmt_manual(R, scales, geo = TRUE)),
  absolute_manual = mat(htmt_manual(R, scales, absolute = TRUE)),
  semTools_htmt_original = mat(as.matrix(semTools::htmt(model, dat, htmt2 = FALSE,
                                                        missing = "listwise"))),
  semTools_htmt2_default = mat(as.matrix(semTools::htmt(model, dat, missing = "listwise"))),
  semTools_calls = c("semTools::htmt(model, dat, htmt2 = FALSE, missing = 'listwise')",
                     "semTools::htmt(model, dat, missing = 'listwise')")
)

## a cross-loading (x9 on visual and speed) on lavaan's HolzingerSwineford1939, the same data
## as the shared holzinger.csv
hs_model <- "visual =~ x1 + x2 + x3 + x9\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
fx <- capture(cfa(hs_model, HolzingerSwineford1939))
b_cross <- block(fx$value, "lavaan::cfa(hs_model, HolzingerSwineford1939)")
b_cross$warnings <- fx$warnings
b_cross$model <- hs_model

res <- list(
  generated_by = "tests/reference/validity.R",
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  semTools = as.character(packageVersion("semTools")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  data_missing = list(file = "validity_missing.csv", n_rows = nrow(dat),
                      complete_rows = sum(complete.cases(dat)),
                      missing_cells = sum(is.na(dat)), model = model, scales = scales),
  data_heywood = list(file = "validity_heywood.csv", n_rows = nrow(heywood$data),
                      model = "H =~ h1 + h2 + h3\nK =~ k1 + k2 + k3"),
  cfa_listwise = b_list,
  cfa_fiml = b_fiml,
  cfa_heywood = b_hey,
  data_npd = list(file = "validity_npd.csv", n_rows = nrow(npd$data),
                  model = "U =~ u1 + u2 + u3\nV =~ v1 + v2 + v3"),
  cfa_npd = b_npd,
  cfa_crossloading_holzinger = b_cross,
  data_lvneg = list(file = "validity_lvneg.csv", n_rows = nrow(lvneg$data),
                    model = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3"),
  cfa_lvneg = b_lvneg,
  htmt = ht
)
write_json(res, file.path(out_dir, "validity.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("written\n")
