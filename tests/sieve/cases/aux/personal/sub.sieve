require "fileinto";
fileinto "FromPersonal";
